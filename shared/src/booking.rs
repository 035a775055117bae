//! Holds, bookings and availability of a session, as the booking ledger answers.

use crate::ids::{SessionId, UserId};
use crate::values::RangeError;
use serde::{Deserialize, Serialize};

/// Most places one request may hold.
pub const MAX_PER_REQUEST: u32 = 100;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// Body of `POST /api/v1/sessions/{id}/holds` and `…/bookings`: a number of places
/// (general admission) or named seats (all of them, or none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceRequest {
    /// Places wanted, 1-100, for a session without a seat map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Seats wanted (`A-12`), 1-100 different ones, for a seated session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<Vec<String>>,
}

crate::openapi::schema!(
    PlaceRequest,
    "PlaceRequest",
    crate::openapi::place_request(MAX_PER_REQUEST)
);

/// What a request asks for, once checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Places {
    /// This many places of general admission.
    Quantity(u32),
    /// Exactly these seats, in the order asked.
    Seats(Vec<String>),
}

impl Places {
    /// How many places.
    pub fn count(&self) -> u32 {
        match self {
            Places::Quantity(n) => *n,
            Places::Seats(s) => u32::try_from(s.len()).unwrap_or(u32::MAX),
        }
    }
}

impl PlaceRequest {
    /// Check the request: a quantity or seats, in range, no seat twice.
    pub fn places(&self) -> Result<Places, RangeError> {
        match (&self.quantity, &self.seats) {
            (Some(n), None) => {
                if *n == 0 || *n > MAX_PER_REQUEST {
                    return Err(RangeError(format!(
                        "quantity must be between 1 and {MAX_PER_REQUEST}, got {n}"
                    )));
                }
                Ok(Places::Quantity(*n))
            }
            (None, Some(seats)) => {
                if seats.is_empty() || seats.len() > MAX_PER_REQUEST as usize {
                    return Err(RangeError(format!(
                        "seats must name 1-{MAX_PER_REQUEST} seats, got {}",
                        seats.len()
                    )));
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(twice) = seats.iter().find(|s| !seen.insert(s.as_str())) {
                    return Err(RangeError(format!("seat {twice:?} is asked for twice")));
                }
                Ok(Places::Seats(seats.clone()))
            }
            _ => Err(RangeError(
                "give either quantity (general admission) or seats, not both".into(),
            )),
        }
    }
}

/// Where a hold or booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Held for the attendee until `expires_at`.
    Held,
    /// Offered to someone on the waitlist until `expires_at`.
    Offered,
    /// Booked.
    Booked,
    /// Given back before it expired.
    Released,
    /// Not confirmed in time.
    Expired,
    /// Booked, then cancelled.
    Cancelled,
}

impl BookingState {
    /// Whether its places count against the capacity.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            BookingState::Held | BookingState::Offered | BookingState::Booked
        )
    }

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Held => "held",
            BookingState::Offered => "offered",
            BookingState::Booked => "booked",
            BookingState::Released => "released",
            BookingState::Expired => "expired",
            BookingState::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for BookingState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "held" => BookingState::Held,
            "offered" => BookingState::Offered,
            "booked" => BookingState::Booked,
            "released" => BookingState::Released,
            "expired" => BookingState::Expired,
            "cancelled" => BookingState::Cancelled,
            other => return Err(format!("unknown booking state {other:?}")),
        })
    }
}

/// A hold or a booking. A hold that is confirmed keeps its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Booking {
    /// Id (a UUID).
    pub id: String,
    /// The session.
    pub session: SessionId,
    /// Whose it is.
    pub user: UserId,
    /// Held, offered, booked, …
    pub state: BookingState,
    /// Places.
    pub quantity: u32,
    /// The seats, for a seated session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seats: Option<Vec<String>>,
    /// When a hold or offer lapses, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// What a session has left: `booked + held + offered + available = capacity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Availability {
    /// The session.
    pub session: SessionId,
    /// Places in all.
    pub capacity: u32,
    /// Places booked.
    pub booked: u32,
    /// Places held for attendees who have not confirmed yet.
    pub held: u32,
    /// Places offered to the waitlist.
    pub offered: u32,
    /// Places free, kept back for the waitlist while anyone waits.
    pub kept_for_waitlist: u32,
    /// Places anyone may hold now.
    pub available: u32,
    /// Seats free now, for a seated session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_seats: Option<Vec<String>>,
}

/// Largest party one waitlist entry may be for.
pub const MAX_PARTY: u32 = MAX_PER_REQUEST;

/// Who goes first on a waitlist: every VIP entry before any standard one, then
/// by signup time.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitlistTier {
    /// Offered first.
    Vip,
    /// Everyone else.
    #[default]
    Standard,
}

impl WaitlistTier {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistTier::Vip => "vip",
            WaitlistTier::Standard => "standard",
        }
    }
}

impl std::str::FromStr for WaitlistTier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "vip" => Ok(WaitlistTier::Vip),
            "standard" => Ok(WaitlistTier::Standard),
            other => Err(format!("unknown waitlist tier {other:?}")),
        }
    }
}

/// Where a waitlist entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitlistState {
    /// In line.
    Waiting,
    /// Places are held for the entry as an offer until it expires.
    Offered,
    /// The offer was accepted.
    Booked,
    /// The attendee left the line.
    Left,
    /// The attendee declined the offer.
    Declined,
    /// The offer lapsed.
    Expired,
}

impl WaitlistState {
    /// Whether the entry is still on the list (waiting or holding an offer).
    pub fn is_active(self) -> bool {
        matches!(self, WaitlistState::Waiting | WaitlistState::Offered)
    }

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistState::Waiting => "waiting",
            WaitlistState::Offered => "offered",
            WaitlistState::Booked => "booked",
            WaitlistState::Left => "left",
            WaitlistState::Declined => "declined",
            WaitlistState::Expired => "expired",
        }
    }
}

impl std::str::FromStr for WaitlistState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "waiting" => WaitlistState::Waiting,
            "offered" => WaitlistState::Offered,
            "booked" => WaitlistState::Booked,
            "left" => WaitlistState::Left,
            "declined" => WaitlistState::Declined,
            "expired" => WaitlistState::Expired,
            other => return Err(format!("unknown waitlist state {other:?}")),
        })
    }
}

/// Body of `POST /api/v1/sessions/{id}/waitlist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinWaitlist {
    /// Places wanted together, 1-100.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub party: u32,
    /// Tier; only staff may put someone in the VIP tier.
    #[serde(default)]
    pub tier: WaitlistTier,
    /// Staff may put another attendee on the list (box office).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
}

/// An entry on a session's waitlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistEntry {
    /// Id (a UUID).
    pub id: String,
    /// The session.
    pub session: SessionId,
    /// Whose.
    pub user: UserId,
    /// Places wanted together.
    pub party: u32,
    /// Tier.
    pub tier: WaitlistTier,
    /// Waiting, offered, …
    pub state: WaitlistState,
    /// Place in line, from 1, while waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// The offer (a hold in state `offered`), while offered; confirm it to book
    /// and release it to decline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<Booking>,
    /// When the attendee joined, RFC 3339.
    pub joined_at: String,
}

/// A page of a session's waitlist, in offer order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistPage {
    /// The entries.
    pub items: Vec<WaitlistEntry>,
    /// Page, from 1.
    pub page: u32,
    /// Entries per page.
    pub limit: u32,
    /// Active entries in all.
    pub total: u64,
}
