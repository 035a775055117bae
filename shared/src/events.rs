//! Venues, events, their sessions (capacity and seat maps) and incidents, with the
//! list queries that page, sort, filter and search them.

use crate::ids::{EventId, IncidentId, SessionId, VenueId};
use crate::values::RangeError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest title or name.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest free text (addresses, locations, descriptions).
pub const MAX_TEXT_LEN: usize = 10_000;
/// Most seats in one session's map.
pub const MAX_SEATS: u32 = 100_000;
/// Longest hold a session may ask for (a day).
pub const MAX_HOLD_TTL_S: u32 = 86_400;

/// A title: 1-200 characters, no leading or trailing spaces, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

crate::openapi::schema!(
    Title,
    "Title",
    crate::openapi::text(1, 200, crate::openapi::Form::Line)
);

impl Title {
    /// The title as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Title {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        if s.trim().is_empty() || s.trim() != s || s.chars().count() > MAX_TITLE_LEN {
            return Err(RangeError(format!(
                "must be 1-{MAX_TITLE_LEN} characters without leading or trailing spaces, got {s:?}"
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(RangeError(format!(
                "may not hold control characters, got {s:?}"
            )));
        }
        Ok(Self(s))
    }
}

impl From<Title> for String {
    fn from(t: Title) -> String {
        t.0
    }
}

/// Free text of at most 10,000 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

crate::openapi::schema!(
    Text,
    "Text",
    crate::openapi::text(0, 10_000, crate::openapi::Form::Any)
);

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        if s.chars().count() > MAX_TEXT_LEN {
            return Err(RangeError(format!(
                "must be at most {MAX_TEXT_LEN} characters"
            )));
        }
        Ok(Self(s))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}

/// How urgent an event or incident is. A `critical` incident raises the alarm.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Low.
    Low,
    /// Normal (the default).
    #[default]
    Normal,
    /// High.
    High,
    /// Critical.
    Critical,
}

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A conference with sessions.
    Conference,
    /// A meeting.
    Meeting,
    /// A show.
    Show,
    /// An emergency: raises the alarm on every operator console.
    Emergency,
}

/// Where an event stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Being prepared; attendees do not see it.
    #[default]
    Draft,
    /// Published: attendees see it and book its sessions.
    Active,
    /// Called off; its sessions take no bookings.
    Cancelled,
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Reported.
    #[default]
    Open,
    /// Someone is on it.
    Investigating,
    /// Dealt with.
    Resolved,
}

/// Body of `POST /api/v1/venues` and `PUT /api/v1/venues/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VenueSpec {
    /// Unique name.
    pub name: Title,
    /// Postal address.
    #[serde(default)]
    pub address: Text,
    /// IANA time zone, e.g. `Europe/Paris`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::time_zone))]
    pub timezone: String,
    /// Whether an emergency also switches every canvas's emergency override on.
    #[serde(default)]
    pub emergency_canvases: bool,
}

/// A stored venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Venue {
    /// Id.
    pub id: VenueId,
    /// What was stored.
    #[serde(flatten)]
    pub spec: VenueSpec,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

/// Body of `POST /api/v1/events` and `PUT /api/v1/events/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// The venue it happens at.
    pub venue: VenueId,
    /// Name, searchable.
    pub name: Title,
    /// Conference, meeting, show or emergency.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Draft (default), active or cancelled.
    #[serde(default)]
    pub status: EventStatus,
    /// Low, normal (default), high or critical.
    #[serde(default)]
    pub priority: Urgency,
    /// Where in the venue.
    #[serde(default)]
    pub location: Text,
    /// Start, RFC 3339.
    pub starts_at: DateTime<Utc>,
    /// End, RFC 3339; after the start.
    pub ends_at: DateTime<Utc>,
    /// Anything else, as a JSON object.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Id.
    pub id: EventId,
    /// What was stored.
    #[serde(flatten)]
    pub spec: EventSpec,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

/// One row of numbered seats: `A-1` … `A-{seats}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SeatRow {
    /// The row's label: 1-8 letters or digits.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9]{1,8}$"))]
    pub row: String,
    /// Seats in the row, numbered from 1.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100_000))]
    pub seats: u32,
    /// Seats that are never sold (a camera position, a broken seat).
    #[serde(default)]
    pub blocked: Vec<u32>,
}

/// The rows of a seated session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SeatMap {
    /// The rows, front to back.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub rows: Vec<SeatRow>,
}

impl SeatMap {
    /// Check the map: unique row labels, 1-8 letters or digits each, blocked seats
    /// that exist, at most [`MAX_SEATS`] seats in all.
    pub fn check(&self) -> Result<(), RangeError> {
        if self.rows.is_empty() {
            return Err(RangeError("seat_map.rows must not be empty".into()));
        }
        let mut labels = std::collections::HashSet::new();
        let mut total: u64 = 0;
        for (i, row) in self.rows.iter().enumerate() {
            let label_ok = (1..=8).contains(&row.row.len())
                && row.row.chars().all(|c| c.is_ascii_alphanumeric());
            if !label_ok {
                return Err(RangeError(format!(
                    "seat_map.rows[{i}].row must be 1-8 letters or digits, got {:?}",
                    row.row
                )));
            }
            if !labels.insert(row.row.as_str()) {
                return Err(RangeError(format!(
                    "seat_map.rows[{i}].row {:?} appears twice",
                    row.row
                )));
            }
            if row.seats == 0 {
                return Err(RangeError(format!(
                    "seat_map.rows[{i}].seats must be at least 1"
                )));
            }
            if let Some(b) = row.blocked.iter().find(|&&b| b == 0 || b > row.seats) {
                return Err(RangeError(format!(
                    "seat_map.rows[{i}].blocked: row {} has no seat {b}",
                    row.row
                )));
            }
            total += u64::from(row.seats);
        }
        if total > u64::from(MAX_SEATS) {
            return Err(RangeError(format!(
                "seat_map has {total} seats; at most {MAX_SEATS}"
            )));
        }
        Ok(())
    }

    /// Every seat that can be sold, as labels (`A-1`), front row first.
    pub fn bookable(&self) -> Vec<String> {
        self.rows
            .iter()
            .flat_map(|row| {
                (1..=row.seats)
                    .filter(|n| !row.blocked.contains(n))
                    .map(|n| format!("{}-{n}", row.row))
            })
            .collect()
    }
}

/// How a session's waitlist offers freed seats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitlistOrder {
    /// The first in line gets the next offer, and waits until enough seats are free.
    #[default]
    Strict,
    /// A smaller party further down may take seats the first cannot fit in.
    SkipAhead,
}

fn default_hold_ttl() -> u32 {
    600
}

/// Body of `POST /api/v1/events/{id}/sessions` and `PUT /api/v1/sessions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    /// Title on the agenda.
    pub title: Title,
    /// Room.
    #[serde(default)]
    pub room: Text,
    /// Start on the agenda, RFC 3339.
    pub starts_at: DateTime<Utc>,
    /// End on the agenda, RFC 3339; after the start.
    pub ends_at: DateTime<Utc>,
    /// Places for general admission. With a seat map it is the number of seats
    /// that can be sold, and may be left out.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(maximum = 100_000))]
    pub capacity: Option<u32>,
    /// Rows of numbered seats; bookings then name their seats.
    #[serde(default)]
    pub seat_map: Option<SeatMap>,
    /// Most places one attendee may hold and book.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100_000))]
    pub per_user_limit: Option<u32>,
    /// How long a hold lasts, seconds (default 600).
    #[serde(default = "default_hold_ttl")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 86_400))]
    pub hold_ttl_s: u32,
    /// How the waitlist offers freed seats.
    #[serde(default)]
    pub waitlist_order: WaitlistOrder,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// The event it belongs to.
    pub event: EventId,
    /// What was stored; `capacity` is always present here.
    #[serde(flatten)]
    pub spec: SessionSpec,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

/// Body of `POST /api/v1/incidents` and `PUT /api/v1/incidents/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IncidentSpec {
    /// What happened.
    pub title: Title,
    /// Details.
    #[serde(default)]
    pub description: Text,
    /// The event it happened at, if any.
    #[serde(default)]
    pub event: Option<EventId>,
    /// Open (default), investigating or resolved.
    #[serde(default)]
    pub status: IncidentStatus,
    /// Low, normal (default), high or critical (raises the alarm).
    #[serde(default)]
    pub priority: Urgency,
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    /// Id.
    pub id: IncidentId,
    /// What was stored.
    #[serde(flatten)]
    pub spec: IncidentSpec,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 500;
/// Highest page number asked for.
pub const MAX_PAGE: u32 = 1_000_000;

/// Paging and sorting of a list: `?page=2&limit=20&sort=-starts_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Paging {
    /// Page number, from 1.
    pub page: u32,
    /// Items per page, 1-500.
    pub limit: u32,
    /// Field to sort by; `-` in front sorts descending.
    pub sort: Option<String>,
}

impl Paging {
    /// Check the numbers: page from 1, limit 1-500.
    pub fn new(
        page: Option<u32>,
        limit: Option<u32>,
        sort: Option<String>,
    ) -> Result<Self, RangeError> {
        let page = page.unwrap_or(1);
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if page == 0 || page > MAX_PAGE {
            return Err(RangeError(format!(
                "page counts from 1 to {MAX_PAGE}, got {page}"
            )));
        }
        if limit == 0 || limit > MAX_LIMIT {
            return Err(RangeError(format!(
                "limit must be between 1 and {MAX_LIMIT}, got {limit}"
            )));
        }
        Ok(Self { page, limit, sort })
    }

    /// The sort field and whether it is descending, if it is one of `allowed`.
    pub fn sort_by<'a>(
        &self,
        allowed: &[&'a str],
        default: &'a str,
    ) -> Result<(&'a str, bool), RangeError> {
        let Some(sort) = &self.sort else {
            return Ok((default, false));
        };
        let (field, descending) = match sort.strip_prefix('-') {
            Some(f) => (f, true),
            None => (sort.as_str(), false),
        };
        allowed
            .iter()
            .find(|&&a| a == field)
            .map(|&a| (a, descending))
            .ok_or_else(|| {
                RangeError(format!(
                    "sort must be one of {} (with '-' in front for descending), got {sort:?}",
                    allowed.join(", ")
                ))
            })
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.limit)
    }
}

/// Filters of `GET /api/v1/events`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Case-insensitive part of the name.
    pub q: Option<String>,
    /// Only this status.
    pub status: Option<EventStatus>,
    /// Only this kind.
    pub kind: Option<EventKind>,
    /// Only this priority.
    pub priority: Option<Urgency>,
    /// Only at this venue.
    pub venue: Option<VenueId>,
    /// Only events that end after this.
    pub from: Option<DateTime<Utc>>,
    /// Only events that start before this.
    pub to: Option<DateTime<Utc>>,
}

/// Filters of `GET /api/v1/incidents`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Only this status.
    pub status: Option<IncidentStatus>,
    /// Only this priority.
    pub priority: Option<Urgency>,
    /// Only at this event.
    pub event: Option<EventId>,
}

/// Sort fields of events.
pub const EVENT_SORTS: &[&str] = &[
    "starts_at",
    "ends_at",
    "name",
    "priority",
    "created_at",
    "id",
];
/// Sort fields of sessions.
pub const SESSION_SORTS: &[&str] = &["starts_at", "title", "room", "capacity", "id"];
/// Sort fields of incidents.
pub const INCIDENT_SORTS: &[&str] = &[
    "created_at",
    "updated_at",
    "priority",
    "status",
    "title",
    "id",
];
/// Sort fields of venues.
pub const VENUE_SORTS: &[&str] = &["name", "created_at", "id"];
