//! Keeping the nodes in step. A node that takes a change (a live command, an
//! override, an edit) stores it first, as a single node does, then announces it
//! on PostgreSQL's `LISTEN/NOTIFY` channel [`CHANNEL`]. Every other node hears the
//! announcement on a connection of its own and brings its own actors to what is
//! stored: the leader's canvases show a command taken on a standby one
//! notification later, and a standby shows what the leader shows, ready to take
//! over without a jump.
//!
//! An announcement names what changed, not the new value: the receiver reads the
//! value from the database, so two nodes taking commands on one canvas at once
//! still end with what the database holds. Only relative cue commands (GO, back)
//! travel as commands.
//!
//! `NOTIFY` is at-most-once for a listener that is not connected. After every
//! (re)connection the listener asks for [`Change::All`]: the receiver aligns
//! everything with the database, so a node that was cut off misses nothing for
//! longer than its reconnection.

use crate::store::Store;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use limelight_shared::cues::CueCommand;
use limelight_shared::ids::{CanvasId, CueListId, ScheduleId};
use limelight_shared::scene::FadeCurve;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::mpsc;

/// The `LISTEN/NOTIFY` channel of the nodes' changes.
pub const CHANNEL: &str = "limelight_changes";
/// First wait before listening again after the connection failed; doubles to
/// [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A stored change another node should take up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A canvas's stored live state changed (scene, master, blackout,
    /// emergency): show what is stored, fading a new scene over `fade_ms`.
    Live {
        /// The canvas.
        canvas: CanvasId,
        /// Fade to a new scene.
        fade_ms: u32,
        /// Its shape.
        curve: FadeCurve,
    },
    /// A cue command on a canvas's loaded cue list.
    Cue {
        /// The canvas.
        canvas: CanvasId,
        /// The command (never `run`: running a list is an override).
        command: CueCommand,
    },
    /// The grand master.
    GrandMaster,
    /// A canvas was added, changed or removed.
    Canvas {
        /// The canvas.
        canvas: CanvasId,
    },
    /// A scene was added, changed or removed.
    Scenes,
    /// A cue list was added, changed or removed.
    CueList {
        /// The cue list.
        cue_list: CueListId,
    },
    /// A schedule entry was added, changed or removed.
    Schedule {
        /// The entry.
        entry: ScheduleId,
    },
    /// An override was taken or handed back on a canvas.
    Override {
        /// The canvas.
        canvas: CanvasId,
        /// The fade of a hand-back.
        fade_ms: Option<u32>,
    },
    /// Anything may have changed: align everything with the database.
    All,
}

/// An announcement: a change, and the node that took it.
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    node: String,
    change: Change,
}

/// Announces this node's changes. Cheap to clone; does nothing on a single node.
#[derive(Debug, Clone)]
pub struct Relay {
    node: String,
    store: Option<Store>,
}

impl Relay {
    /// The relay of node `node` (its cluster id); `store` is `None` on a single node.
    pub fn new(node: String, store: Option<Store>) -> Self {
        Self { node, store }
    }

    /// Announce `change` to the other nodes. A failure is logged, not returned:
    /// the change is stored already, and a node that missed it aligns with the
    /// database when its listener reconnects.
    pub async fn publish(&self, change: Change) {
        let Some(store) = &self.store else {
            return;
        };
        let note = Note {
            node: self.node.clone(),
            change,
        };
        let payload = match serde_json::to_string(&note) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "a change could not be written for the other nodes");
                return;
            }
        };
        match store.notify(CHANNEL, &payload).await {
            Ok(()) => metrics::counter!("limelight_cluster_changes_sent_total").increment(1),
            Err(e) => {
                metrics::counter!("limelight_cluster_change_errors_total").increment(1);
                tracing::warn!(error = %e, "a change could not be announced to the other nodes");
            }
        }
    }
}

/// Listen to the other nodes' changes at `url` for as long as the process
/// runs, handing each to `changes`; after each (re)connection [`Change::All`]
/// comes first. `node` is this node's cluster id: its own announcements are
/// left out. Returns when `changes` is closed.
pub async fn listen(url: String, node: String, changes: mpsc::UnboundedSender<Change>) {
    let mut retry = RETRY_FIRST;
    loop {
        match AsyncPgConnection::establish(&url).await {
            Ok(mut conn) => {
                match diesel::sql_query(format!("LISTEN {CHANNEL}"))
                    .execute(&mut conn)
                    .await
                {
                    Ok(_) => {
                        retry = RETRY_FIRST;
                        if changes.send(Change::All).is_err() {
                            return;
                        }
                        let mut stream = std::pin::pin!(conn.notifications_stream());
                        while let Some(item) = stream.next().await {
                            let Ok(notification) = item else { break };
                            if let Some(change) = decode(&notification.payload, &node)
                                && changes.send(change).is_err()
                            {
                                return;
                            }
                        }
                        tracing::warn!("the connection that hears other nodes' changes closed");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not listen for other nodes' changes")
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not connect to hear other nodes' changes"),
        }
        if changes.is_closed() {
            return;
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(RETRY_MAX);
    }
}

/// The change in `payload`, unless node `me` announced it or it cannot be read.
fn decode(payload: &str, me: &str) -> Option<Change> {
    match serde_json::from_str::<Note>(payload) {
        Ok(note) if note.node == me => None,
        Ok(note) => {
            metrics::counter!("limelight_cluster_changes_received_total").increment(1);
            Some(note.change)
        }
        Err(e) => {
            tracing::warn!(error = %e, "an unreadable change from another node was left out");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_hears_the_others_but_not_itself() -> Result<(), serde_json::Error> {
        let note = Note {
            node: "a".into(),
            change: Change::Live {
                canvas: CanvasId(3),
                fade_ms: 500,
                curve: FadeCurve::Linear,
            },
        };
        let payload = serde_json::to_string(&note)?;
        assert_eq!(decode(&payload, "a"), None);
        assert_eq!(decode(&payload, "b"), Some(note.change));
        assert_eq!(decode("{not json", "b"), None);
        Ok(())
    }

    #[test]
    fn announcements_fit_postgres_payload_limit() -> Result<(), Box<dyn std::error::Error>> {
        // NOTIFY payloads must stay under 8000 bytes; a cue command carries the
        // longest text, a cue number.
        let note = Note {
            node: uuid::Uuid::new_v4().to_string(),
            change: Change::Cue {
                canvas: CanvasId(i64::MAX),
                command: CueCommand::Goto {
                    cue: "9".repeat(16).try_into()?,
                },
            },
        };
        assert!(serde_json::to_string(&note)?.len() < 8000);
        Ok(())
    }
}
