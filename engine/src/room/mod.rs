//! Session rooms: presence, chat, polls and Q&A for the people following a
//! session live. `state.rs` decides (plain Rust), `storage.rs` stores and loads,
//! `actor.rs` owns one room, its members and its fan-out.

pub mod actor;
pub mod state;
pub mod storage;

pub use actor::{Act, Enter, Exit, Look, MemberSink, Offer, RoomActor, RoomIdleFor};
pub use state::{Room, RoomCommand, RoomDone, RoomRefusal, Speaker};
