//! Console events that cross nodes (when `redis_url` is set). Some events are
//! made on one node only but are for people whose console may be open on
//! another: a system alert (for staff), a waitlist offer and a booking
//! confirmation (for their attendee), an asset's review (for the content team).
//! Each node publishes the ones it made on the bus's `events` channel and
//! raises the other nodes' on its own consoles.
//!
//! Events every node makes for itself are not sent: canvas states, cues and
//! overrides follow from the changes the nodes relay to each other
//! ([`super::relay`]); room events go through the room's owner
//! (`session::room::peers`).

use crate::EngineEvent;
use crate::bus::{Bus, Heard};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast;

/// The bus channel.
const CHANNEL: &str = "events";

/// An event that crosses nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Shared {
    SystemAlert {
        alert: limelight_shared::ws::Alert,
    },
    WaitlistOffer {
        entry: limelight_shared::booking::WaitlistEntry,
    },
    BookingConfirmed {
        booking: limelight_shared::booking::Booking,
    },
    AssetChanged {
        id: limelight_shared::ids::AssetId,
        asset: Option<limelight_shared::content::Asset>,
    },
}

impl Shared {
    fn of(event: &EngineEvent) -> Option<Self> {
        Some(match event {
            EngineEvent::SystemAlert(alert) => Self::SystemAlert {
                alert: alert.clone(),
            },
            EngineEvent::WaitlistOffer(entry) => Self::WaitlistOffer {
                entry: entry.clone(),
            },
            EngineEvent::BookingConfirmed(booking) => Self::BookingConfirmed {
                booking: booking.clone(),
            },
            EngineEvent::AssetChanged { id, asset } => Self::AssetChanged {
                id: *id,
                asset: asset.clone(),
            },
            _ => return None,
        })
    }

    fn event(self) -> EngineEvent {
        match self {
            Self::SystemAlert { alert } => EngineEvent::SystemAlert(alert),
            Self::WaitlistOffer { entry } => EngineEvent::WaitlistOffer(entry),
            Self::BookingConfirmed { booking } => EngineEvent::BookingConfirmed(booking),
            Self::AssetChanged { id, asset } => EngineEvent::AssetChanged { id, asset },
        }
    }
}

/// One event on the bus: who made it, and what.
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    node: String,
    #[serde(flatten)]
    event: Shared,
}

/// Events heard from other nodes and raised here, by their JSON: this node's
/// publisher passes over them rather than sending them back.
type Echoes = Arc<Mutex<HashSet<String>>>;

/// Publish this node's shared events and raise the other nodes', for as long
/// as the engine runs. Both loops run on the current arbiter.
pub fn run(bus: Bus, node: String, events: broadcast::Sender<EngineEvent>) {
    let echoes: Echoes = Arc::default();
    actix::spawn(publish(
        bus.clone(),
        node.clone(),
        events.subscribe(),
        echoes.clone(),
    ));
    actix::spawn(hear(bus, node, events, echoes));
}

fn body(event: &Shared) -> Option<String> {
    serde_json::to_string(event).ok()
}

async fn publish(
    bus: Bus,
    node: String,
    mut events: broadcast::Receiver<EngineEvent>,
    echoes: Echoes,
) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                metrics::counter!("limelight_bus_events_lagged_total").increment(n);
                tracing::error!(missed = n, "events for the other nodes were passed over");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(shared) = Shared::of(&event) else {
            continue;
        };
        let Some(key) = body(&shared) else {
            continue;
        };
        if echoes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key)
        {
            continue;
        }
        let note = Note {
            node: node.clone(),
            event: shared,
        };
        let Ok(text) = serde_json::to_string(&note) else {
            continue;
        };
        if let Err(e) = bus.publish(CHANNEL, &text).await {
            metrics::counter!("limelight_bus_events_unsent_total").increment(1);
            tracing::error!(error = %e, "an event did not reach the other nodes");
        }
    }
}

async fn hear(bus: Bus, node: String, events: broadcast::Sender<EngineEvent>, echoes: Echoes) {
    let mut heard = bus.listen_retrying(CHANNEL).await;
    while let Some(h) = heard.recv().await {
        match h {
            Heard::Event(text) => match serde_json::from_str::<Note>(&text) {
                Ok(note) if note.node != node => {
                    if let Some(key) = body(&note.event) {
                        echoes
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(key);
                    }
                    let _ = events.send(note.event.event());
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "another node's event was not understood"),
            },
            Heard::Gap => {
                // Each of these is stored where it was made (alerts as events
                // and incidents, offers and bookings in the ledger, assets).
                tracing::error!("events of other nodes were lost; what they told is stored");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_events_made_on_one_node_cross() -> Result<(), Box<dyn std::error::Error>> {
        let alert = limelight_shared::ws::Alert {
            kind: "critical_incident".into(),
            id: 3,
            title: "Smoke".into(),
            canvases: Vec::new(),
            at: "2026-12-04T12:00:00.000Z".into(),
        };
        let event = Shared::of(&EngineEvent::SystemAlert(alert.clone())).ok_or("not shared")?;
        let note = Note {
            node: "a".into(),
            event,
        };
        let back: Note = serde_json::from_str(&serde_json::to_string(&note)?)?;
        assert_eq!(back.node, "a");
        assert!(matches!(back.event.event(), EngineEvent::SystemAlert(a) if a == alert));
        let canvas = EngineEvent::CanvasRestarted {
            id: limelight_shared::ids::CanvasId(1),
            reason: "test".into(),
        };
        assert_eq!(Shared::of(&canvas), None);
        Ok(())
    }
}
