//! Holds and bookings: every change goes through the session's ledger actor; the
//! answer comes once the batch holding it has committed.

use super::*;
use crate::booking::{Answer, Ask, Command, Keyed, LedgerActor, LedgerOf, Question, Reply, Submit};
use limelight_shared::booking::{
    Availability, Booking, BookingState, MAX_IDEMPOTENCY_KEY_LEN, PlaceRequest,
};
use limelight_shared::events::Paging;
use limelight_shared::ids::SessionId;

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
        Some(_) => Err(EngineError::Invalid(format!(
            "Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
        ))),
    }
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
            .send(LedgerOf(session))
            .await
            .map_err(mailbox)
    }

    async fn submit(
        &self,
        session: SessionId,
        command: Command,
        key: Option<&str>,
    ) -> Result<Booking, EngineError> {
        let key = check_key(key)?;
        let op = match &command {
            Command::Hold { book: false, .. } => "hold",
            Command::Hold { book: true, .. } => "book",
            Command::Confirm { .. } => "confirm",
            Command::Release { .. } => "release",
        };
        let answer: Answer = self
            .ledger(session)
            .await?
            .send(Submit(Keyed { command, key }))
            .await
            .map_err(mailbox)??;
        let outcome = if answer.is_ok() { "ok" } else { "refused" };
        metrics::counter!("limelight_booking_commands_total", "op" => op, "outcome" => outcome)
            .increment(1);
        answer.map_err(EngineError::Booking)
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
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        let command = Command::Hold {
            user: who.id,
            places,
            book,
        };
        self.submit(session, command, key).await
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
        self.submit(session, command, key).await
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
            staff: who.role != Role::Attendee,
        };
        self.submit(session, command, key).await
    }

    async fn ask(&self, session: SessionId, q: Question) -> Result<Reply, EngineError> {
        self.ledger(session)
            .await?
            .send(Ask(q))
            .await
            .map_err(mailbox)?
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
            Reply::Bookings(_) => Err(EngineError::Internal(
                "the ledger answered off topic".into(),
            )),
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
            Reply::Availability(_) => Err(EngineError::Internal(
                "the ledger answered off topic".into(),
            )),
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
