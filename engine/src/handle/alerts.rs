//! Emergencies: an event of type emergency that is active, or an unresolved
//! critical incident, raises a system alert on every staff WebSocket. When its
//! venue is configured so (`emergency_canvases`), every canvas's emergency
//! override is switched on first, through the same stored, audited path an
//! operator's switch takes.

use super::*;
use limelight_shared::events::{Event, EventKind, EventStatus, Incident, IncidentStatus, Urgency};
use limelight_shared::ids::VenueId;
use limelight_shared::ws::Alert;

fn emergency_event(e: &Event) -> bool {
    e.spec.kind == EventKind::Emergency && e.spec.status == EventStatus::Active
}

fn critical_incident(i: &Incident) -> bool {
    i.spec.priority == Urgency::Critical && i.spec.status != IncidentStatus::Resolved
}

impl EngineHandle {
    /// An event was stored: alert if it has just become an active emergency.
    pub(super) async fn event_alert(&self, who: &Principal, before: Option<&Event>, after: &Event) {
        if emergency_event(after) && !before.is_some_and(emergency_event) {
            let title = after.spec.name.as_str().to_owned();
            self.raise(
                who,
                "emergency_event",
                after.id.0,
                title,
                Some(after.spec.venue),
            )
            .await;
        }
    }

    /// An incident was stored: alert if it has just become critical and open.
    pub(super) async fn incident_alert(
        &self,
        who: &Principal,
        before: Option<&Incident>,
        after: &Incident,
    ) {
        if !critical_incident(after) || before.is_some_and(critical_incident) {
            return;
        }
        let venue = match after.spec.event {
            Some(e) => self
                .inner
                .store
                .event(e.0)
                .await
                .ok()
                .flatten()
                .map(|r| VenueId(r.venue_id)),
            None => None,
        };
        let title = after.spec.title.as_str().to_owned();
        self.raise(who, "critical_incident", after.id.0, title, venue)
            .await;
    }

    async fn raise(
        &self,
        who: &Principal,
        kind: &str,
        id: i64,
        title: String,
        venue: Option<VenueId>,
    ) {
        let switch = match venue {
            Some(v) => {
                matches!(self.inner.store.venue(v.0).await, Ok(Some(r)) if r.emergency_canvases)
            }
            None => false,
        };
        let mut canvases = Vec::new();
        if switch {
            for canvas in self.list_canvases().await.unwrap_or_default().iter() {
                match self.set_emergency(who, canvas.id, true).await {
                    Ok(_) => canvases.push(canvas.id),
                    Err(e) => {
                        tracing::error!(canvas = %canvas.id, error = %e, "emergency override failed")
                    }
                }
            }
        }
        tracing::warn!(kind, id, %title, canvases = canvases.len(), "system alert");
        metrics::counter!("limelight_system_alerts_total", "kind" => kind.to_owned()).increment(1);
        let alert = Alert {
            kind: kind.to_owned(),
            id,
            title,
            canvases,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        let _ = self.inner.events.send(EngineEvent::SystemAlert(alert));
    }
}
