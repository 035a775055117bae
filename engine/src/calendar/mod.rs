//! Venues, events, sessions and incidents: checks on what is written, and the
//! conversions between stored rows and what the API shows.

use crate::error::EngineError;
use crate::store::{self, EventRecord, IncidentRecord, SessionRecord, StoreError, VenueRecord};
use chrono::NaiveDateTime;
use limelight_shared::events::{
    Event, EventSpec, Incident, IncidentSpec, MAX_HOLD_TTL_S, Session, SessionSpec, Venue,
    VenueSpec,
};
use limelight_shared::ids::{EventId, IncidentId, SessionId, VenueId};

/// Why a calendar call failed: what it names does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// No venue with that id.
    #[error("no venue with id {0}")]
    UnknownVenue(VenueId),
    /// No event with that id.
    #[error("no event with id {0}")]
    UnknownEvent(EventId),
    /// No session with that id.
    #[error("no session with id {0}")]
    UnknownSession(SessionId),
    /// No incident with that id.
    #[error("no incident with id {0}")]
    UnknownIncident(IncidentId),
}

/// An enum as stored: its serde name (`"conference"`, `"skip_ahead"`).
pub(crate) fn stored<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// An enum read back from its stored name.
fn parse<T: serde::de::DeserializeOwned>(
    what: &str,
    id: i64,
    text: &str,
) -> Result<T, EngineError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| EngineError::Store(StoreError::Corrupt(format!("{what} {id}: {e}"))))
}

fn corrupt(what: &str, id: i64, e: impl std::fmt::Display) -> EngineError {
    EngineError::Store(StoreError::Corrupt(format!("{what} {id}: {e}")))
}

fn text<T: TryFrom<String>>(what: &str, id: i64, s: &str) -> Result<T, EngineError>
where
    T::Error: std::fmt::Display,
{
    T::try_from(s.to_owned()).map_err(|e| corrupt(what, id, e))
}

/// Check a venue: a known time zone.
pub fn check_venue(spec: &VenueSpec) -> Result<(), EngineError> {
    spec.timezone
        .parse::<chrono_tz::Tz>()
        .map(|_| ())
        .map_err(|_| {
            EngineError::invalid(format!("timezone: unknown time zone {:?}", spec.timezone))
        })
}

/// A venue as stored.
pub fn venue_row(id: VenueId, spec: &VenueSpec, created_at: NaiveDateTime) -> VenueRecord {
    VenueRecord {
        id: id.0,
        name: spec.name.as_str().to_owned(),
        address: spec.address.as_str().to_owned(),
        timezone: spec.timezone.clone(),
        emergency_canvases: spec.emergency_canvases,
        created_at,
        updated_at: store::now(),
    }
}

/// A stored venue as shown.
pub fn venue_dto(r: &VenueRecord) -> Result<Venue, EngineError> {
    Ok(Venue {
        id: VenueId(r.id),
        spec: VenueSpec {
            name: text("venue", r.id, &r.name)?,
            address: text("venue", r.id, &r.address)?,
            timezone: r.timezone.clone(),
            emergency_canvases: r.emergency_canvases,
        },
        created_at: store::rfc3339(r.created_at),
        updated_at: store::rfc3339(r.updated_at),
    })
}

/// Check an event: it ends after it starts.
pub fn check_event(spec: &EventSpec) -> Result<(), EngineError> {
    if spec.ends_at <= spec.starts_at {
        return Err(EngineError::invalid("ends_at must be after starts_at"));
    }
    Ok(())
}

/// An event as stored.
pub fn event_row(id: EventId, spec: &EventSpec, created_at: NaiveDateTime) -> EventRecord {
    EventRecord {
        id: id.0,
        venue_id: spec.venue.0,
        name: spec.name.as_str().to_owned(),
        kind: stored(&spec.kind),
        status: stored(&spec.status),
        priority: stored(&spec.priority),
        location: spec.location.as_str().to_owned(),
        starts_at: spec.starts_at.naive_utc(),
        ends_at: spec.ends_at.naive_utc(),
        metadata: serde_json::Value::Object(spec.metadata.clone()).to_string(),
        created_at,
        updated_at: store::now(),
    }
}

/// A stored event as shown.
pub fn event_dto(r: &EventRecord) -> Result<Event, EngineError> {
    Ok(Event {
        id: EventId(r.id),
        spec: EventSpec {
            venue: VenueId(r.venue_id),
            name: text("event", r.id, &r.name)?,
            kind: parse("event", r.id, &r.kind)?,
            status: parse("event", r.id, &r.status)?,
            priority: parse("event", r.id, &r.priority)?,
            location: text("event", r.id, &r.location)?,
            starts_at: r.starts_at.and_utc(),
            ends_at: r.ends_at.and_utc(),
            metadata: serde_json::from_str(&r.metadata).map_err(|e| corrupt("event", r.id, e))?,
        },
        created_at: store::rfc3339(r.created_at),
        updated_at: store::rfc3339(r.updated_at),
    })
}

/// Check a session and settle its capacity: with a seat map, the seats that can
/// be sold (a capacity given must agree); without, the capacity given.
pub fn check_session(spec: &SessionSpec) -> Result<u32, EngineError> {
    if spec.ends_at <= spec.starts_at {
        return Err(EngineError::invalid("ends_at must be after starts_at"));
    }
    if spec.hold_ttl_s == 0 || spec.hold_ttl_s > MAX_HOLD_TTL_S {
        return Err(EngineError::invalid(format!(
            "hold_ttl_s must be between 1 and {MAX_HOLD_TTL_S}, got {}",
            spec.hold_ttl_s
        )));
    }
    if let Some(limit) = spec.per_user_limit
        && (limit == 0 || limit > limelight_shared::events::MAX_SEATS)
    {
        return Err(EngineError::invalid(format!(
            "per_user_limit must be between 1 and {}, got {limit}",
            limelight_shared::events::MAX_SEATS
        )));
    }
    let capacity = match (&spec.seat_map, spec.capacity) {
        (Some(map), given) => {
            map.check()
                .map_err(|e| EngineError::invalid(e.to_string()))?;
            let seats = u32::try_from(map.bookable().len()).unwrap_or(u32::MAX);
            if given.is_some_and(|c| c != seats) {
                return Err(EngineError::invalid(format!(
                    "capacity {} does not match the seat map's {seats} bookable seats; \
                     leave it out",
                    given.unwrap_or_default()
                )));
            }
            seats
        }
        (None, Some(c)) => c,
        (None, None) => {
            return Err(EngineError::invalid(
                "capacity is required without a seat map",
            ));
        }
    };
    if i32::try_from(capacity).is_err() || capacity > limelight_shared::events::MAX_SEATS {
        return Err(EngineError::invalid(format!(
            "capacity must be at most {}",
            limelight_shared::events::MAX_SEATS
        )));
    }
    Ok(capacity)
}

/// A session as stored.
pub fn session_row(
    id: SessionId,
    event: EventId,
    spec: &SessionSpec,
    capacity: u32,
    created_at: NaiveDateTime,
) -> SessionRecord {
    SessionRecord {
        id: id.0,
        event_id: event.0,
        title: spec.title.as_str().to_owned(),
        room: spec.room.as_str().to_owned(),
        starts_at: spec.starts_at.naive_utc(),
        ends_at: spec.ends_at.naive_utc(),
        capacity: i32::try_from(capacity).unwrap_or(i32::MAX),
        seat_map: spec
            .seat_map
            .as_ref()
            .map(|m| serde_json::to_string(m).unwrap_or_default()),
        per_user_limit: spec.per_user_limit.and_then(|n| i32::try_from(n).ok()),
        hold_ttl_s: i32::try_from(spec.hold_ttl_s).unwrap_or(i32::MAX),
        waitlist_order: stored(&spec.waitlist_order),
        ledger_version: 0,
        created_at,
        updated_at: store::now(),
    }
}

/// A stored session as shown.
pub fn session_dto(r: &SessionRecord) -> Result<Session, EngineError> {
    Ok(Session {
        id: SessionId(r.id),
        event: EventId(r.event_id),
        spec: SessionSpec {
            title: text("session", r.id, &r.title)?,
            room: text("session", r.id, &r.room)?,
            starts_at: r.starts_at.and_utc(),
            ends_at: r.ends_at.and_utc(),
            capacity: u32::try_from(r.capacity).ok(),
            seat_map: r
                .seat_map
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| corrupt("session", r.id, e))?,
            per_user_limit: r.per_user_limit.and_then(|n| u32::try_from(n).ok()),
            hold_ttl_s: u32::try_from(r.hold_ttl_s).unwrap_or_default(),
            waitlist_order: parse("session", r.id, &r.waitlist_order)?,
        },
        created_at: store::rfc3339(r.created_at),
        updated_at: store::rfc3339(r.updated_at),
    })
}

/// An incident as stored.
pub fn incident_row(
    id: IncidentId,
    spec: &IncidentSpec,
    created_at: NaiveDateTime,
) -> IncidentRecord {
    IncidentRecord {
        id: id.0,
        event_id: spec.event.map(|e| e.0),
        title: spec.title.as_str().to_owned(),
        description: spec.description.as_str().to_owned(),
        status: stored(&spec.status),
        priority: stored(&spec.priority),
        created_at,
        updated_at: store::now(),
    }
}

/// A stored incident as shown.
pub fn incident_dto(r: &IncidentRecord) -> Result<Incident, EngineError> {
    Ok(Incident {
        id: IncidentId(r.id),
        spec: IncidentSpec {
            title: text("incident", r.id, &r.title)?,
            description: text("incident", r.id, &r.description)?,
            event: r.event_id.map(EventId),
            status: parse("incident", r.id, &r.status)?,
            priority: parse("incident", r.id, &r.priority)?,
        },
        created_at: store::rfc3339(r.created_at),
        updated_at: store::rfc3339(r.updated_at),
    })
}
