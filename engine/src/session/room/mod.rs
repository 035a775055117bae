//! Session rooms: presence, chat, polls and Q&A for the people following a
//! session live. `state.rs` decides (plain Rust), `storage.rs` stores and loads,
//! `actor.rs` owns one room and its members, `relay.rs` is how its events reach
//! their connections, `peers.rs` how one room spans several nodes.

pub mod actor;
pub mod peers;
pub mod relay;
pub mod state;
pub mod storage;

pub use actor::{Act, Enter, Exit, GetRoomIdle, GetRoomSnapshot, RoomActor};
pub use relay::{Delivery, DeliveryKind, Feedback, Relay};
pub use state::{RoomCommand, RoomDone, RoomRefusal, Speaker};
