//! Session rooms: entering and leaving (one connection is one member), commands
//! from the WebSocket and moderation over REST. Each call goes to the session's
//! room actor, started on demand by the session directory.

use super::*;
use crate::session::directory::GetRoom;
use crate::session::room::{
    Act, Enter, Exit, GetRoomSnapshot, Relay, RoomActor, RoomCommand, RoomDone, Speaker,
};
use limelight_shared::ids::SessionId;
use limelight_shared::room::RoomSnapshot;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_MEMBER: AtomicU64 = AtomicU64::new(1);

fn speaker(who: &Principal) -> Speaker {
    Speaker {
        user: who.id,
        username: who.username.clone(),
        moderator: who.is_staff(),
    }
}

impl EngineHandle {
    /// A new room member id: one per connection.
    pub fn new_room_member(&self) -> u64 {
        NEXT_MEMBER.fetch_add(1, Ordering::Relaxed)
    }

    async fn room(&self, session: SessionId) -> Result<Addr<RoomActor>, EngineError> {
        self.inner
            .sessions
            .send(GetRoom(session))
            .await
            .map_err(mailbox)
    }

    /// Enter a session's room as connection `member`; its events, starting with
    /// a snapshot, go through `relay`, which must know the member already.
    /// Attendees may enter rooms of published events only.
    pub async fn enter_room(
        &self,
        who: &Principal,
        session: SessionId,
        member: u64,
        relay: Arc<dyn Relay>,
    ) -> Result<(), EngineError> {
        self.session(session, !who.is_staff()).await?;
        let enter = Enter {
            member,
            user: who.id,
            relay,
        };
        self.room(session).await?.send(enter).await.map_err(mailbox)
    }

    /// Leave a session's room.
    pub async fn leave_room(&self, session: SessionId, member: u64) -> Result<(), EngineError> {
        self.room(session)
            .await?
            .send(Exit(member))
            .await
            .map_err(mailbox)
    }

    /// A command in a room: from connection `member` (which must have entered),
    /// or over REST (`None`, moderators). Answered once stored.
    pub async fn room_command(
        &self,
        who: &Principal,
        session: SessionId,
        command: RoomCommand,
        member: Option<u64>,
    ) -> Result<RoomDone, EngineError> {
        if member.is_none() {
            self.session(session, false).await?;
        }
        let act = Act {
            speaker: speaker(who),
            command,
            member,
        };
        let done = self.room(session).await?.send(act).await.map_err(mailbox)?;
        let outcome = if done.is_ok() { "ok" } else { "refused" };
        metrics::counter!("limelight_room_commands_total", "outcome" => outcome).increment(1);
        done
    }

    /// A room as it is now: who is present, recent chat, polls with results,
    /// questions in order.
    pub async fn room_snapshot(
        &self,
        session: SessionId,
        published_only: bool,
    ) -> Result<RoomSnapshot, EngineError> {
        self.session(session, published_only).await?;
        self.room(session)
            .await?
            .send(GetRoomSnapshot)
            .await
            .map_err(mailbox)?
    }
}
