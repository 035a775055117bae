//! Holds and bookings: every change goes through the session's ledger actor; the
//! answer comes once the batch holding it has committed.

use super::*;
use crate::AccountError;
use crate::session::booking::peers::{Incoming, Request, Response, Route};
use crate::session::booking::{
    Answer, Command, GetReply, Keyed, LedgerActor, LedgerRefusal, Outcome, Question, Reply, Submit,
};
use crate::session::directory::GetLedger;
use limelight_shared::booking::WaitlistTier;
use limelight_shared::booking::{
    Availability, Booking, BookingState, JoinWaitlist, MAX_IDEMPOTENCY_KEY_LEN, MAX_PARTY,
    PlaceRequest, WaitlistEntry, WaitlistPage,
};
use limelight_shared::events::Paging;
use limelight_shared::ids::SessionId;
use limelight_shared::ids::UserId;
use tokio::sync::mpsc;

/// An idempotency key: 1-200 visible ASCII characters.
fn check_key(key: Option<&str>) -> Result<Option<String>, EngineError> {
    match key {
        None => Ok(None),
        Some(k)
            if (1..=MAX_IDEMPOTENCY_KEY_LEN).contains(&k.len())
                && k.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(k.to_owned()))
        }
        Some(_) => Err(EngineError::invalid(format!(
            "Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
        ))),
    }
}

/// What a forwarded request that did not come back with an answer means here.
fn forward_failed(session: SessionId, response: Response) -> EngineError {
    match response {
        Response::Failed {
            unknown_session: true,
        } => EngineError::Calendar(crate::CalendarError::UnknownSession(session)),
        Response::Failed { .. } => EngineError::Unavailable(
            "the booking could not be stored; nothing changed, retry with the same idempotency key",
        ),
        _ => off_topic(),
    }
}

fn off_topic() -> EngineError {
    EngineError::broken("the ledger answered off topic")
}

fn booking_dto(r: &store::BookingRecord) -> Result<Booking, EngineError> {
    let corrupt = |e: String| EngineError::Store(store::StoreError::Corrupt(e));
    Ok(Booking {
        id: r.id.clone(),
        session: SessionId(r.session_id),
        user: UserId(r.user_id),
        state: r.state.parse::<BookingState>().map_err(corrupt)?,
        quantity: u32::try_from(r.quantity).unwrap_or_default(),
        seats: r
            .seats
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt(format!("booking {}: {e}", r.id)))?,
        expires_at: r.expires_at.map(store::rfc3339),
    })
}

impl EngineHandle {
    async fn ledger(&self, session: SessionId) -> Result<Addr<LedgerActor>, EngineError> {
        self.inner
            .sessions
            .send(GetLedger(session))
            .await
            .map_err(mailbox)
    }

    async fn submit(
        &self,
        session: SessionId,
        command: Command,
        key: Option<&str>,
    ) -> Result<Outcome, EngineError> {
        let key = check_key(key)?;
        let op = match &command {
            Command::Hold { book: false, .. } => "hold",
            Command::Hold { book: true, .. } => "book",
            Command::Confirm { .. } => "confirm",
            Command::Release { .. } => "release",
            Command::Join { .. } => "join_waitlist",
            Command::Leave { .. } => "leave_waitlist",
        };
        let answer = self.run_command(session, Keyed { command, key }).await?;
        let outcome = if answer.is_ok() { "ok" } else { "refused" };
        metrics::counter!("limelight_booking_commands_total", "op" => op, "outcome" => outcome)
            .increment(1);
        answer.map_err(EngineError::Ledger)
    }

    async fn submit_booking(
        &self,
        session: SessionId,
        command: Command,
        key: Option<&str>,
    ) -> Result<Booking, EngineError> {
        match self.submit(session, command, key).await? {
            Outcome::Booking(b) => Ok(b),
            Outcome::Waiter(_) => Err(off_topic()),
        }
    }

    async fn submit_waiter(
        &self,
        session: SessionId,
        command: Command,
    ) -> Result<WaitlistEntry, EngineError> {
        match self.submit(session, command, None).await? {
            Outcome::Waiter(w) => Ok(w),
            Outcome::Booking(_) => Err(off_topic()),
        }
    }

    /// Join a session's waitlist: the attendee, or anyone for staff (who alone may
    /// give the VIP tier).
    pub async fn join_waitlist(
        &self,
        who: &Principal,
        session: SessionId,
        request: &JoinWaitlist,
    ) -> Result<WaitlistEntry, EngineError> {
        if !(1..=MAX_PARTY).contains(&request.party) {
            return Err(EngineError::invalid(format!(
                "party must be between 1 and {MAX_PARTY}, got {}",
                request.party
            )));
        }
        let staff = who.is_staff();
        if !staff && (request.tier != WaitlistTier::Standard || request.user.is_some()) {
            return Err(AccountError::StaffOnly(
                "choose the tier or put someone else on the waitlist",
            )
            .into());
        }
        let user = match request.user {
            Some(user) => {
                self.user(user).await?;
                user
            }
            None => who.id,
        };
        self.session(session, !staff).await?;
        let command = Command::Join {
            user,
            party: request.party,
            tier: request.tier,
        };
        self.submit_waiter(session, command).await
    }

    /// Leave a session's waitlist, declining an open offer.
    pub async fn leave_waitlist(
        &self,
        who: &Principal,
        session: SessionId,
    ) -> Result<WaitlistEntry, EngineError> {
        self.submit_waiter(session, Command::Leave { user: who.id })
            .await
    }

    /// An attendee's place on a session's waitlist, with the offer if one is open.
    pub async fn my_waitlist_entry(
        &self,
        who: &Principal,
        session: SessionId,
    ) -> Result<WaitlistEntry, EngineError> {
        match self.ask(session, Question::Waiting(who.id)).await? {
            Reply::Waiter(Some(w)) => Ok(w),
            Reply::Waiter(None) => Err(EngineError::Ledger(LedgerRefusal::NotWaiting)),
            _ => Err(off_topic()),
        }
    }

    /// A page of a session's waitlist in offer order (staff).
    pub async fn waitlist(
        &self,
        session: SessionId,
        paging: &Paging,
    ) -> Result<WaitlistPage, EngineError> {
        self.session(session, false).await?;
        let offset = (paging.page as usize - 1) * paging.limit as usize;
        let q = Question::Waitlist {
            offset,
            limit: paging.limit as usize,
        };
        match self.ask(session, q).await? {
            Reply::Waitlist(items, total) => Ok(WaitlistPage {
                items,
                page: paging.page,
                limit: paging.limit,
                total: total as u64,
            }),
            _ => Err(off_topic()),
        }
    }

    /// Hold places (or book them at once with `book`) in a session.
    pub async fn hold(
        &self,
        who: &Principal,
        session: SessionId,
        request: &PlaceRequest,
        book: bool,
        key: Option<&str>,
    ) -> Result<Booking, EngineError> {
        let places = request
            .places()
            .map_err(|e| EngineError::invalid(e.to_string()))?;
        let command = Command::Hold {
            user: who.id,
            places,
            book,
        };
        self.submit_booking(session, command, key).await
    }

    /// Book what a hold keeps.
    pub async fn confirm_hold(
        &self,
        who: &Principal,
        session: SessionId,
        hold: &str,
        key: Option<&str>,
    ) -> Result<Booking, EngineError> {
        let command = Command::Confirm {
            user: who.id,
            id: hold.to_owned(),
        };
        self.submit_booking(session, command, key).await
    }

    /// Release a hold or cancel a booking: an attendee's own, or anyone's for staff.
    pub async fn release_booking(
        &self,
        who: &Principal,
        session: SessionId,
        id: &str,
        key: Option<&str>,
    ) -> Result<Booking, EngineError> {
        let command = Command::Release {
            user: who.id,
            id: id.to_owned(),
            staff: who.is_staff(),
        };
        self.submit_booking(session, command, key).await
    }

    async fn ask(&self, session: SessionId, q: Question) -> Result<Reply, EngineError> {
        if let Some(response) = self.forwarded(session, Request::Ask(q)).await? {
            return match response {
                Response::Answered(reply) => Ok(reply),
                other => Err(forward_failed(session, other)),
            };
        }
        self.local_ask(session, q).await
    }

    /// A command for `session`'s ledger: the one this node runs, or the one of
    /// the node that holds the session's lease.
    async fn run_command(&self, session: SessionId, keyed: Keyed) -> Result<Answer, EngineError> {
        if let Some(response) = self
            .forwarded(session, Request::Submit(keyed.clone()))
            .await?
        {
            return match response {
                Response::Submitted(answer) => Ok(answer),
                other => Err(forward_failed(session, other)),
            };
        }
        self.local_command(session, keyed).await
    }

    /// Send `request` to the node that runs `session`'s ledger; `None` when
    /// that is this node (or the request never left it), to run here.
    async fn forwarded(
        &self,
        session: SessionId,
        request: Request,
    ) -> Result<Option<Response>, EngineError> {
        let Some(peers) = &self.inner.ledger_peers else {
            return Ok(None);
        };
        let Route::Remote(owner) = peers.route(session).await else {
            return Ok(None);
        };
        match peers.forward(&owner, session, request).await? {
            Response::NotSent => Ok(None),
            response => Ok(Some(response)),
        }
    }

    async fn local_command(&self, session: SessionId, keyed: Keyed) -> Result<Answer, EngineError> {
        self.ledger(session)
            .await?
            .send(Submit(keyed))
            .await
            .map_err(mailbox)?
    }

    async fn local_ask(&self, session: SessionId, q: Question) -> Result<Reply, EngineError> {
        self.ledger(session)
            .await?
            .send(GetReply(q))
            .await
            .map_err(mailbox)?
    }

    /// Run what other nodes forward to this node's ledgers, each request as it
    /// comes, for as long as the engine runs.
    pub(super) async fn serve_forwarded(self, mut incoming: mpsc::UnboundedReceiver<Incoming>) {
        let Some(peers) = self.inner.ledger_peers.clone() else {
            return;
        };
        while let Some(asked) = incoming.recv().await {
            let (handle, peers) = (self.clone(), peers.clone());
            actix::spawn(async move {
                let session = asked.session;
                let done = match asked.request.clone() {
                    Request::Submit(keyed) => handle
                        .local_command(session, keyed)
                        .await
                        .map(Response::Submitted),
                    Request::Ask(q) => handle.local_ask(session, q).await.map(Response::Answered),
                };
                let response = done.unwrap_or_else(|e| Response::Failed {
                    unknown_session: matches!(
                        e,
                        EngineError::Calendar(crate::CalendarError::UnknownSession(_))
                    ),
                });
                peers.answer(asked, response);
            });
        }
    }

    /// What a session has left, from its ledger.
    pub async fn availability(
        &self,
        session: SessionId,
        published_only: bool,
    ) -> Result<Availability, EngineError> {
        self.session(session, published_only).await?;
        match self.ask(session, Question::Availability).await? {
            Reply::Availability(a) => Ok(a),
            _ => Err(off_topic()),
        }
    }

    /// One attendee's live holds and bookings in a session, from its ledger.
    pub async fn my_session_bookings(
        &self,
        who: &Principal,
        session: SessionId,
    ) -> Result<Vec<Booking>, EngineError> {
        match self.ask(session, Question::Mine(who.id)).await? {
            Reply::Bookings(b) => Ok(b),
            _ => Err(off_topic()),
        }
    }

    /// One attendee's holds and bookings in every session, newest first (at most
    /// 500).
    pub async fn my_bookings(&self, who: &Principal) -> Result<Vec<Booking>, EngineError> {
        let rows = self.inner.store.bookings_of_user(who.id.0, 500).await?;
        rows.iter().map(booking_dto).collect()
    }

    /// A page of a session's holds and bookings, as stored (staff).
    pub async fn session_bookings(
        &self,
        session: SessionId,
        paging: &Paging,
    ) -> Result<Page<Booking>, EngineError> {
        self.session(session, false).await?;
        let rows = self
            .inner
            .store
            .bookings_of_session(session.0, paging)
            .await?;
        Ok(Page {
            items: rows
                .items
                .iter()
                .map(booking_dto)
                .collect::<Result<_, _>>()?,
            page: paging.page,
            limit: paging.limit,
            total: rows.total,
        })
    }
}
