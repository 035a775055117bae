//! REST routes under `/api/v1`, plus health and metrics. Handlers parse, check the
//! permission, call the `EngineHandle`, and map the result; nothing else.
//!
//! The routes are one table: the router and the OpenAPI document are both made from it.

mod assets;
mod audit;
mod auth;
mod bookings;
mod canvases;
mod celebrations;
mod cues;
mod events;
mod health;
mod inputs;
mod live;
mod rooms;
mod scenes;
mod schedule;
mod templates;
mod uploads;
mod users;
mod waitlists;

pub use health::document as openapi_json;

use crate::error::ApiError;
use crate::openapi::{Answer, Describe, Doc};
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, Route, web};
use limelight_shared::audit::{AuditEntry, Page};
use limelight_shared::booking::{Availability, Booking, WaitlistEntry, WaitlistPage};
use limelight_shared::canvas::{Canvas, CanvasState};
use limelight_shared::celebration::{Celebration, CelebrationFired};
use limelight_shared::content::{Asset, Upload};
use limelight_shared::control::GrandMaster;
use limelight_shared::cues::CueList;
use limelight_shared::error::ErrorCode;
use limelight_shared::events::{Event, Incident, Session, Venue};
use limelight_shared::input::{Input, InputState};
use limelight_shared::room::{ChatMessage, Poll, Question, RoomSnapshot};
use limelight_shared::scene::Scene;
use limelight_shared::schedule::{OverrideInfo, Preview, ScheduleEntry, Timeline};
use limelight_shared::template::Template;
use limelight_shared::users::{LoginResponse, User};
use utoipa::ToSchema;

const PREFIX: &str = "/api/v1";

/// One route: its handler and its documentation.
struct Row {
    route: Route,
    doc: Doc,
}

/// A route; its parameters, body and the errors they can cause are read from the
/// handler's extractors.
fn r<F, Args>(method: Method, path: &'static str, handler: F) -> Row
where
    F: Handler<Args>,
    Args: FromRequest + Describe + 'static,
    F::Output: Responder + 'static,
{
    let doc = Doc::new::<Args>(method.clone(), path, std::any::type_name::<F>());
    Row {
        route: web::method(method).to(handler),
        doc,
    }
}

impl Row {
    fn doc(mut self, tag: &'static str, summary: &'static str) -> Self {
        self.doc.tag = tag;
        self.doc.summary = summary;
        self
    }

    fn answers(mut self, answer: Answer) -> Self {
        self.doc.answer = Some(answer);
        self
    }

    fn json(
        mut self,
        status: u16,
        schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    ) -> Self {
        self.doc.answer = Some(Answer::Json(status, Box::new(schema)));
        self
    }

    fn ok<T: ToSchema>(mut self) -> Self {
        let schema = self.doc.op.component::<T>();
        self.json(200, schema)
    }

    fn created<T: ToSchema>(mut self) -> Self {
        let schema = self.doc.op.component::<T>();
        self.json(201, schema)
    }

    fn ok_list<T: ToSchema>(mut self) -> Self {
        let schema = self.doc.op.list_of::<T>();
        self.json(200, schema)
    }

    fn ok_page<T: ToSchema>(mut self) -> Self {
        // A generic page refers to its item by name without adding it.
        self.doc.op.component::<T>();
        let schema = self.doc.op.inline::<Page<T>>();
        self.json(200, schema)
    }

    /// An example request body.
    fn example(mut self, example: serde_json::Value) -> Self {
        self.doc.example = Some(example);
        self
    }

    /// Its operation id within its module, where one handler serves two routes.
    fn named(mut self, name: &str) -> Self {
        let module = self.doc.operation_id.split('.').next().unwrap_or("api");
        self.doc.operation_id = format!("{module}.{name}");
        self
    }

    /// What this route makes lives below `path`, not below the route's own path.
    fn creates(mut self, path: &'static str) -> Self {
        self.doc.creates = Some(path);
        self
    }

    /// The fields its list may be sorted by.
    fn sorts(mut self, fields: &[&str]) -> Self {
        self.doc.op.sorts(fields);
        self
    }

    /// Statuses the handler itself answers with, beyond what its extractors cause.
    fn refuses(mut self, statuses: &[u16]) -> Self {
        self.doc.errors.extend_from_slice(statuses);
        self
    }

    fn no_content(self) -> Self {
        self.answers(Answer::Empty(204, "Done"))
    }
}

/// Every route: method, path, handler and what it answers. Paths below `/api/v1`
/// start with it.
fn table() -> Vec<Row> {
    use Method as M;
    vec![
        r(M::POST, "/api/v1/auth/login", auth::login).doc("auth", "Log in; returns a bearer token")
            .refuses(&[401, 429]).ok::<LoginResponse>().example(serde_json::json!({"username": "admin", "password": "change-me-now"})),
        r(M::POST, "/api/v1/auth/signup", auth::signup).doc("auth", "Sign up as an attendee; 201 with a token").created::<LoginResponse>().example(serde_json::json!({"username": "ann", "password": "a-long-password"})),
        r(M::POST, "/api/v1/auth/logout", auth::logout).doc("auth", "Log out: the token this request carries stops working, on every node; the user's other tokens go on").no_content(),
        r(M::GET, "/api/v1/auth/me", auth::me).doc("auth", "The user the token belongs to").ok::<User>(),
        r(M::GET, "/api/v1/users", users::list).doc("users", "List users (admin)").ok_list::<User>(),
        r(M::POST, "/api/v1/users", users::create).doc("users", "Create a user (admin)").created::<User>().example(serde_json::json!({"username": "m1", "password": "marketing-pw", "role": "marketing"})),
        r(M::GET, "/api/v1/users/{id}", users::get).doc("users", "A user (admin)").ok::<User>(),
        r(M::PATCH, "/api/v1/users/{id}", users::update).doc("users", "Change password and/or role (admin)").ok::<User>().example(serde_json::json!({"role": "operator"})),
        r(M::DELETE, "/api/v1/users/{id}", users::delete).doc("users", "Remove a user (admin); the last admin cannot be removed").no_content(),
        r(M::GET, "/api/v1/canvases", canvases::list).doc("canvases", "List canvases").ok_list::<Canvas>(),
        r(M::POST, "/api/v1/canvases", canvases::create).doc("canvases", "Create a canvas (admin); it starts sending at once").created::<Canvas>().example(serde_json::json!({"name": "Test", "pixels": 170, "fps": 40, "output": {"universe": 1, "priority": 100, "destinations": ["127.0.0.1:6000"]}})),
        r(M::GET, "/api/v1/canvases/{id}", canvases::get).doc("canvases", "A canvas").ok::<Canvas>(),
        r(M::PUT, "/api/v1/canvases/{id}", canvases::update).doc("canvases", "Replace a canvas's configuration (admin)").ok::<Canvas>(),
        r(M::DELETE, "/api/v1/canvases/{id}", canvases::delete).doc("canvases", "Remove a canvas (admin); its stream ends with Stream_Terminated").no_content(),
        r(M::GET, "/api/v1/canvases/{id}/state", live::state).doc("live", "Live state of a canvas").ok::<CanvasState>(),
        r(M::POST, "/api/v1/canvases/{id}/scene", live::trigger_scene).doc("live", "Take a canvas by hand with a scene, for a scope (default: until the next scheduled change) (operator, admin)").ok::<CanvasState>().example(serde_json::json!({"scene": "facade-warm-welcome", "fade_ms": 2000, "curve": "linear", "scope": "next_change"})),
        r(M::POST, "/api/v1/canvases/{id}/blackout", live::blackout).doc("live", "Blackout on/off (operator, admin); zeros keep streaming").ok::<CanvasState>().example(serde_json::json!({"on": true})),
        r(M::POST, "/api/v1/canvases/{id}/master", live::master).doc("live", "Set the canvas master (operator, admin)").ok::<CanvasState>().example(serde_json::json!({"level": 75})),
        r(M::POST, "/api/v1/canvases/{id}/emergency", live::emergency).doc("live", "Latch/release emergency override (operator, admin)").ok::<CanvasState>().example(serde_json::json!({"on": true})),
        r(M::POST, "/api/v1/canvases/{id}/cues", cues::command).doc("cues", "A cue command (operator, admin): run a list by hand (an override with a scope), GO, back, go to cue, panic. A GO inside the list's GO protection is refused with 409 cue_refused; an unknown cue number is 404 unknown_cue").ok::<CanvasState>().example(serde_json::json!({"action": "go"})),
        r(M::POST, "/api/v1/canvases/{id}/release", schedule::release).doc("schedule", "Hand a canvas back to the schedule (operator, admin)").ok::<CanvasState>().example(serde_json::json!({"fade_ms": 2000})),
        r(M::POST, "/api/v1/canvases/{id}/advance", schedule::advance).doc("schedule", "Start the canvas's next scheduled entry now, held until that occurrence ends (operator, admin)").ok::<CanvasState>(),
        r(M::GET, "/api/v1/state", live::states).doc("live", "Live state of every canvas").ok_list::<CanvasState>(),
        r(M::GET, "/api/v1/grand-master", live::grand_master).doc("live", "The grand master").ok::<GrandMaster>(),
        r(M::PUT, "/api/v1/grand-master", live::set_grand_master).doc("live", "Set the grand master (operator, admin)").ok::<GrandMaster>().example(serde_json::json!({"level": 100})),
        r(M::GET, "/api/v1/scenes", scenes::list).doc("scenes", "List scenes").ok_list::<Scene>(),
        r(M::POST, "/api/v1/scenes", scenes::create).doc("scenes", "Create a scene (marketing, admin)").created::<Scene>().example(serde_json::json!({"name": "orange", "layers": [{"effect": "solid", "color": "#FF8000"}]})),
        r(M::GET, "/api/v1/scenes/{id}", scenes::get).doc("scenes", "A scene").ok::<Scene>(),
        r(M::PUT, "/api/v1/scenes/{id}", scenes::update).doc("scenes", "Replace a scene (marketing, admin)").ok::<Scene>(),
        r(M::GET, "/api/v1/scenes/{id}/thumbnail", scenes::thumbnail).doc("scenes", "The scene rendered on a strip: a row of `width` pixels per instant over `seconds`, top first, as a PNG").answers(Answer::Other(200, "image/png", "A PNG of `height` rows of `width` pixels")),
        r(M::DELETE, "/api/v1/scenes/{id}", scenes::delete).doc("scenes", "Remove a scene (marketing, admin)").no_content(),
        r(M::GET, "/api/v1/templates", templates::list).doc("templates", "Scene templates by name").ok_list::<Template>(),
        r(M::POST, "/api/v1/templates", templates::create).doc("templates", "Add a template (marketing, admin): typed parameters (color, number, asset, text) with defaults, and layers with `{\"param\": name}` wherever a value goes; every parameter used, every use declared, and the defaults make a valid scene").created::<Template>().example(serde_json::json!({"name": "Celebration", "parameters": [{"kind": "color", "name": "home", "label": "Home colour", "default": "#C8102E"}, {"kind": "color", "name": "away", "label": "Away colour", "default": "#1E90FF"}], "layers": [{"effect": "chase", "color": {"param": "home"}, "background": {"param": "away"}, "width": 4, "speed": 30}]})),
        r(M::GET, "/api/v1/templates/{id}", templates::get).doc("templates", "A template").ok::<Template>(),
        r(M::PUT, "/api/v1/templates/{id}", templates::update).doc("templates", "Replace a template (marketing, admin); scenes made from it stay as they were made").ok::<Template>(),
        r(M::DELETE, "/api/v1/templates/{id}", templates::delete).doc("templates", "Remove a template (marketing, admin); scenes made from it stay").no_content(),
        r(M::POST, "/api/v1/templates/{id}/instantiate", templates::instantiate).doc("templates", "Make a scene from the template (marketing, admin): values by parameter name, the rest take their defaults").created::<Scene>().example(serde_json::json!({"name": "Reds v Blues", "values": {"home": "#E00000", "away": "#0030E0"}})),
        r(M::GET, "/api/v1/inputs", inputs::list).doc("inputs", "Every input (staff); passwords show as ********").ok_list::<Input>(),
        r(M::POST, "/api/v1/inputs", inputs::create).doc("inputs", "Add an input and start it (admin): an MQTT connection (`mqtt://host[:port]`, client id, credentials) whose bindings each turn a topic filter's messages into a named value 0..1: a JSON `pointer` to the number, an input `range` mapped to 0..1 and clamped, a `deadband`, `smoothing_ms`, and a `fallback` used before the first message, after `expire_after_ms` of silence and while the `availability` topic says offline. Value names are unique across inputs (409). Or a camera (with the `media` build): a GStreamer `source` analysed at `width` x `height` in grey, blobs at or above `threshold` tracked with persistent ids and placed on the pixel maps by `mapping`; a source that does not parse is refused (422)").created::<Input>().example(serde_json::json!({"name": "lobby", "kind": "mqtt", "broker": "mqtt://127.0.0.1:1883", "bindings": [{"name": "lobby_level", "topic": "venue/lobby/presence", "pointer": "/level", "range": [0, 100], "expire_after_ms": 1500, "fallback": 0}]})),
        r(M::GET, "/api/v1/inputs/{id}", inputs::get).doc("inputs", "An input (staff)").ok::<Input>(),
        r(M::PUT, "/api/v1/inputs/{id}", inputs::update).doc("inputs", "Replace an input and restart it (admin); a password written as ******** keeps the stored one").ok::<Input>(),
        r(M::DELETE, "/api/v1/inputs/{id}", inputs::delete).doc("inputs", "Stop and remove an input (admin); layers bound to its values read 0").no_content(),
        r(M::GET, "/api/v1/inputs/{id}/state", inputs::state).doc("inputs", "How an input stands (staff): connection, reconnects and the last error, messages received and refused by reason, and each value with its raw number, age and whether the fallback stands in; for a camera its newest `frame` number, frames analysed, `blobs` and `blob_events`").ok::<InputState>(),
        r(M::GET, "/api/v1/celebrations", celebrations::list).doc("celebrations", "Every celebration (staff), with when it last fired and how long until it may fire again").ok_list::<Celebration>(),
        r(M::POST, "/api/v1/celebrations", celebrations::create).doc("celebrations", "Add a celebration (marketing, admin): what it plays (a scene or a cue list) on which canvases for `duration_ms`, its `cooldown_ms`, and an optional rule that fires it when an input value rises above a threshold. The scene, cue list and canvases must exist").created::<Celebration>().example(serde_json::json!({"name": "goal", "play": {"scene": "gold", "fade_ms": 500}, "canvases": "all", "duration_ms": 10000, "cooldown_ms": 60000, "rule": {"input": "lobby_level", "above": 0.8}})),
        r(M::GET, "/api/v1/celebrations/{id}", celebrations::get).doc("celebrations", "A celebration (staff)").ok::<Celebration>(),
        r(M::PUT, "/api/v1/celebrations/{id}", celebrations::update).doc("celebrations", "Replace a celebration (marketing, admin); one playing now finishes as it began").ok::<Celebration>(),
        r(M::DELETE, "/api/v1/celebrations/{id}", celebrations::delete).doc("celebrations", "Remove a celebration (marketing, admin); one playing now still hands its canvases back").no_content(),
        r(M::POST, "/api/v1/celebrations/{id}/fire", celebrations::fire).doc("celebrations", "Fire a celebration (operators, admin): its canvases play it now and go back after `duration_ms` to what they showed before (an override they had, for what is left of it, or the schedule). Refused with 409 `cooling_down` while it plays or until its cooldown has passed since it fired").ok::<CelebrationFired>(),
        r(M::OPTIONS, "/api/v1/uploads", uploads::options).doc("content", "What the tus server speaks: Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm").answers(Answer::Empty(204, "The tus headers")),
        r(M::POST, "/api/v1/uploads", uploads::create).doc("content", "Create a tus upload (marketing, admin): Upload-Length, Upload-Metadata (name, filename, filetype, asset to add a version to); a body of application/offset+octet-stream carries its first bytes. 201 with Location and Upload-Expires; 413 over Tus-Max-Size, 415 for a type that is not an image").refuses(&[412, 413, 415, 422]).answers(Answer::Empty(201, "Created: Location names the upload")),
        r(M::HEAD, "/api/v1/uploads/{id}", uploads::head).doc("content", "Where a tus upload stands: Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires; 410 once expired").refuses(&[410, 412]).answers(Answer::Empty(200, "The upload's headers")),
        r(M::PATCH, "/api/v1/uploads/{id}", uploads::patch).doc("content", "The next bytes of a tus upload from Upload-Offset (application/offset+octet-stream, optional Upload-Checksum: sha256). 409 at a wrong offset, 410 once expired, 415 for another content type or a file that is not an image, 422 for an image that cannot be read, 460 for a checksum that does not match").refuses(&[409, 410, 412, 413, 415, 422, 423, 460]).answers(Answer::Empty(204, "Kept: Upload-Offset says how far")),
        r(M::DELETE, "/api/v1/uploads/{id}", uploads::delete).doc("content", "End a tus upload and remove its bytes").refuses(&[410, 412]).no_content(),
        r(M::GET, "/api/v1/uploads/{id}", uploads::get).doc("content", "A tus upload as JSON, with the asset it became once complete").refuses(&[410]).ok::<Upload>(),
        r(M::GET, "/api/v1/assets", assets::list).doc("content", "Every asset with its versions (staff)").ok_list::<Asset>(),
        r(M::GET, "/api/v1/assets/{id}", assets::get).doc("content", "An asset with its versions (staff)").ok::<Asset>(),
        r(M::GET, "/api/v1/assets/{id}/thumbnail", assets::thumbnail).doc("content", "A version (the newest unless `version` names one) fitted inside `size` x `size` pixels, never enlarged, over black, as a PNG; pending versions too").answers(Answer::Other(200, "image/png", "A PNG of at most `size` pixels a side")),
        r(M::DELETE, "/api/v1/assets/{id}", assets::delete).doc("content", "Remove an asset and its files (marketing, admin); 409 naming the scene that shows it").no_content(),
        r(M::POST, "/api/v1/assets/{id}/approve", assets::approve).doc("content", "Approve a version (admins and approvers): the newest pending one unless `version` names one; the newest approved version is the live one. 409 when none is pending").ok::<Asset>().example(serde_json::json!({"version": 1})),
        r(M::POST, "/api/v1/assets/{id}/reject", assets::reject).doc("content", "Reject a version with a reason (admins and approvers): the newest pending one unless `version` names one; a rejected live version hands over to the approved one before it").ok::<Asset>().example(serde_json::json!({"reason": "The logo is cut off at the top", "version": 1})),
        r(M::POST, "/api/v1/assets/{id}/rollback", assets::roll_back).doc("content", "Make an earlier approved version live again (admins and approvers): `version`, or the approved one before the live one. 409 when there is none").ok::<Asset>().example(serde_json::json!({})),
        r(M::GET, "/api/v1/schedule", schedule::list).doc("schedule", "All schedule entries").ok_list::<ScheduleEntry>(),
        r(M::POST, "/api/v1/schedule", schedule::create).doc("schedule", "Add a schedule entry (marketing, admin); invalid rules are refused with 422").created::<ScheduleEntry>().example(serde_json::json!({"name": "Evenings", "targets": "all", "priority": 10, "play": {"scene": "canopy-sunset", "fade_ms": 3000}, "start": {"date": "2026-03-01", "sun": "sunset", "offset_minutes": -15}, "end": {"time": "23:30"}, "rrule": "FREQ=DAILY", "stop": {"mode": "fade_out", "fade_ms": 5000}})),
        r(M::GET, "/api/v1/schedule/preview", schedule::preview).doc("schedule", "What plays on every canvas at an instant (now by default)").ok::<Preview>(),
        r(M::GET, "/api/v1/schedule/timeline", schedule::timeline).doc("schedule", "Every change over a range (from now, 7 days by default; at most 366 days)").ok::<Timeline>(),
        r(M::GET, "/api/v1/schedule/{id}", schedule::get).doc("schedule", "A schedule entry").ok::<ScheduleEntry>(),
        r(M::PUT, "/api/v1/schedule/{id}", schedule::update).doc("schedule", "Replace a schedule entry (marketing, admin)").ok::<ScheduleEntry>(),
        r(M::DELETE, "/api/v1/schedule/{id}", schedule::delete).doc("schedule", "Remove a schedule entry (marketing, admin)").no_content(),
        r(M::GET, "/api/v1/overrides", schedule::overrides).doc("schedule", "Every canvas held by hand against the schedule").ok_list::<OverrideInfo>(),
        r(M::GET, "/api/v1/cue-lists", cues::list).doc("cues", "All cue lists").ok_list::<CueList>(),
        r(M::POST, "/api/v1/cue-lists", cues::create).doc("cues", "Add a cue list (marketing, admin); out-of-range values, repeated cue numbers and unknown scenes are refused").created::<CueList>().example(serde_json::json!({"name": "Gala", "go_protection_ms": 500, "cues": [{"number": 1, "scene": "interior-house-lights", "fade_ms": 3000, "continue": "auto_follow", "post_wait_ms": 2000}, {"number": 2, "scene": "interior-show-dim", "pre_wait_ms": 500}]})),
        r(M::GET, "/api/v1/cue-lists/{id}", cues::get).doc("cues", "One cue list").ok::<CueList>(),
        r(M::PUT, "/api/v1/cue-lists/{id}", cues::update).doc("cues", "Replace a cue list (marketing, admin); canvases that have it loaded take the new version, the playhead on the same cue numbers").ok::<CueList>(),
        r(M::DELETE, "/api/v1/cue-lists/{id}", cues::delete).doc("cues", "Remove a cue list (marketing, admin); 409 while a schedule entry or an override plays it").no_content(),
        r(M::POST, "/api/v1/panic", cues::panic).doc("cues", "Panic on every canvas (operator, admin): every cue list stops and every canvas fades to black over fade_ms (default 1000)").ok_list::<CanvasState>().example(serde_json::json!({"fade_ms": 1000})),
        r(M::GET, "/api/v1/venues", events::list_venues)
            .sorts(limelight_shared::events::VENUE_SORTS).doc("events", "List venues (everyone)").ok_page::<Venue>(),
        r(M::POST, "/api/v1/venues", events::create_venue).doc("events", "Add a venue (staff)").created::<Venue>().example(serde_json::json!({"name": "Opera", "timezone": "Europe/Paris", "emergency_canvases": true})),
        r(M::GET, "/api/v1/venues/{id}", events::get_venue).doc("events", "One venue").ok::<Venue>(),
        r(M::PUT, "/api/v1/venues/{id}", events::update_venue).doc("events", "Replace a venue (staff)").ok::<Venue>(),
        r(M::DELETE, "/api/v1/venues/{id}", events::delete_venue).doc("events", "Remove a venue (staff); 409 while it has events").no_content(),
        r(M::GET, "/api/v1/events", events::list_events)
            .sorts(limelight_shared::events::EVENT_SORTS).doc("events", "List events: search by name, filter, sort, page (attendees see no drafts)").ok_page::<Event>(),
        r(M::POST, "/api/v1/events", events::create_event).doc("events", "Add a event (staff)").created::<Event>().example(serde_json::json!({"venue": 1, "name": "Rust Conf", "type": "conference", "status": "active", "priority": "normal", "location": "Hall A", "starts_at": "2030-01-10T09:00:00Z", "ends_at": "2030-01-10T18:00:00Z"})),
        r(M::GET, "/api/v1/events/{id}", events::get_event).doc("events", "One event").ok::<Event>(),
        r(M::PUT, "/api/v1/events/{id}", events::update_event).doc("events", "Replace a event (staff)").ok::<Event>(),
        r(M::DELETE, "/api/v1/events/{id}", events::delete_event).doc("events", "Remove a event (staff) with its sessions; 409 while one has live bookings").no_content(),
        r(M::GET, "/api/v1/events/{id}/sessions", events::list_sessions)
            .sorts(limelight_shared::events::SESSION_SORTS).doc("events", "An event's sessions").ok_page::<Session>(),
        r(M::POST, "/api/v1/events/{id}/sessions", events::create_session).doc("events", "Add a session to an event (staff)").created::<Session>().creates("/api/v1/sessions").example(serde_json::json!({"title": "Keynote", "room": "A", "capacity": 300, "per_user_limit": 4, "hold_ttl_s": 600, "starts_at": "2030-01-10T09:00:00Z", "ends_at": "2030-01-10T10:00:00Z"})),
        r(M::GET, "/api/v1/sessions/{id}", events::get_session).doc("events", "One session").ok::<Session>(),
        r(M::PUT, "/api/v1/sessions/{id}", events::update_session).doc("events", "Replace a session (staff); 409 if the capacity drops below what is held and booked, or the seat map changes while seats are claimed").ok::<Session>(),
        r(M::DELETE, "/api/v1/sessions/{id}", events::delete_session).doc("events", "Remove a session (staff); 409 while it has live holds or bookings").no_content(),
        r(M::GET, "/api/v1/sessions/{id}/availability", bookings::availability).doc("bookings", "What the session has left, from its ledger").ok::<Availability>(),
        r(M::POST, "/api/v1/sessions/{id}/holds", bookings::hold).doc("bookings", "Hold places for the session's hold time; 409 sold_out, seats_taken, limit_reached, booking_closed").created::<Booking>().example(serde_json::json!({"quantity": 2})),
        r(M::POST, "/api/v1/sessions/{id}/holds/{hold}/confirm", bookings::confirm).doc("bookings", "Book what a hold keeps; 409 hold_expired or booking_gone").ok::<Booking>(),
        r(M::DELETE, "/api/v1/sessions/{id}/holds/{hold}", bookings::release).doc("bookings", "Give a hold back").ok::<Booking>(),
        r(M::GET, "/api/v1/sessions/{id}/bookings", bookings::list).doc("bookings", "Every hold and booking of the session (staff)").ok_page::<Booking>(),
        r(M::POST, "/api/v1/sessions/{id}/bookings", bookings::book).doc("bookings", "Book places at once, without a hold").created::<Booking>().example(serde_json::json!({"quantity": 2})),
        r(M::DELETE, "/api/v1/sessions/{id}/bookings/{booking}", bookings::release).named("cancel").doc("bookings", "Cancel a booking (one's own; staff: anyone's)").ok::<Booking>(),
        r(M::GET, "/api/v1/me/bookings", bookings::mine).doc("bookings", "The caller's holds and bookings, newest first").ok_list::<Booking>(),
        r(M::GET, "/api/v1/sessions/{id}/room", rooms::snapshot).doc("rooms", "The room: presence, chat, polls with results, questions").ok::<RoomSnapshot>(),
        r(M::POST, "/api/v1/sessions/{id}/room/polls", rooms::create_poll).doc("rooms", "Create a poll (staff)").created::<Poll>().example(serde_json::json!({"question": "Which encore?", "options": ["a", "b"], "kind": "single"})),
        r(M::POST, "/api/v1/sessions/{id}/room/polls/{poll}/status", rooms::poll_status).doc("rooms", "Open or close a poll (staff)").ok::<Poll>().example(serde_json::json!({"status": "closed"})),
        r(M::POST, "/api/v1/sessions/{id}/room/messages/{message}/moderate", rooms::moderate_message).doc("rooms", "Delete, pin or unpin a chat message (staff)").ok::<ChatMessage>().example(serde_json::json!({"action": "pin"})),
        r(M::POST, "/api/v1/sessions/{id}/room/questions/{question}/moderate", rooms::moderate_question).doc("rooms", "Pin, unpin or mark a question answered (staff)").ok::<Question>().example(serde_json::json!({"action": "answered"})),
        r(M::GET, "/api/v1/sessions/{id}/waitlist", waitlists::list).doc("waitlists", "The waitlist in offer order (staff)").ok::<WaitlistPage>(),
        r(M::POST, "/api/v1/sessions/{id}/waitlist", waitlists::join).doc("waitlists", "Join the waitlist: {party, tier (staff), user (staff)}").created::<WaitlistEntry>().example(serde_json::json!({"party": 2})),
        r(M::GET, "/api/v1/sessions/{id}/waitlist/me", waitlists::mine).doc("waitlists", "Your entry, position and offer").ok::<WaitlistEntry>(),
        r(M::DELETE, "/api/v1/sessions/{id}/waitlist/me", waitlists::leave).doc("waitlists", "Leave the waitlist, declining an open offer").ok::<WaitlistEntry>(),
        r(M::GET, "/api/v1/incidents", events::list_incidents)
            .sorts(limelight_shared::events::INCIDENT_SORTS).doc("events", "List incidents (staff)").ok_page::<Incident>(),
        r(M::POST, "/api/v1/incidents", events::create_incident).doc("events", "Add a incident (staff)").created::<Incident>().example(serde_json::json!({"title": "Smoke in hall B", "event": 3, "status": "open", "priority": "critical"})),
        r(M::GET, "/api/v1/incidents/{id}", events::get_incident).doc("events", "One incident").ok::<Incident>(),
        r(M::PUT, "/api/v1/incidents/{id}", events::update_incident).doc("events", "Replace a incident (staff)").ok::<Incident>(),
        r(M::DELETE, "/api/v1/incidents/{id}", events::delete_incident).doc("events", "Remove a incident (staff)").no_content(),
        r(M::GET, "/api/v1/audit", audit::list).doc("audit", "Audit log, newest first (admin)").ok_page::<AuditEntry>(),
        r(M::GET, "/api/v1/docs", health::reference)
            .doc("system", "This reference, as a page")
            .answers(Answer::Other(200, "text/html", "The API reference")),
        r(M::GET, "/api/v1/openapi.json", health::openapi).doc("system", "This document").answers(Answer::Other(200, "application/json", "This document")),
        r(M::GET, "/api/v1/ws", crate::ws::connect).doc("live", "Operator WebSocket (token as the subprotocol `bearer.<token>` beside `limelight.v1`, as an Authorization header, or as ?token=); protocol in the README").answers(Answer::Empty(101, "Switching to the WebSocket protocol")),
        r(M::GET, "/api/v1/cluster", health::cluster).doc("system", "The nodes sharing the database, which one drives the output, and how the database answers (admin)").ok::<limelight_shared::cluster::ClusterState>(),
        r(M::GET, "/healthz", health::healthz).doc("system", "Liveness").ok::<health::Health>(),
        r(M::GET, "/readyz", health::readyz).doc("system", "Readiness: the database answers, and with Redis set, a message published there comes back").ok::<health::Health>(),
        r(M::GET, "/metrics", health::metrics).doc("system", "Prometheus metrics").answers(Answer::Other(200, "text/plain", "Prometheus text format")),
    ]
}

/// Method and path of every route, e.g. `("POST", "/api/v1/auth/login")`.
pub fn route_table() -> Vec<(String, String)> {
    table()
        .into_iter()
        .map(|row| (row.doc.method.to_string(), row.doc.path.to_owned()))
        .collect()
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    crate::openapi::document(table().into_iter().map(|row| row.doc).collect())
}

/// Register every route: one resource per path, holding each of its methods. A
/// method the path does not have answers 405 with an `Allow` header naming those
/// it has.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Paths in the table's order: `/schedule/preview` must come before `/schedule/{id}`.
    let mut paths: Vec<(&'static str, Vec<(Method, Route)>)> = Vec::new();
    for Row { route, doc } in table() {
        let (method, path) = (doc.method, doc.path);
        match paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, routes)) => routes.push((method, route)),
            None => paths.push((path, vec![(method, route)])),
        }
    }
    let mut api = web::scope(PREFIX);
    for (path, routes) in paths {
        let allow = routes
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let resource = routes
            .into_iter()
            .fold(
                web::resource(path.strip_prefix(PREFIX).unwrap_or(path)),
                |resource, (_, route)| resource.route(route),
            )
            .default_service(web::to(move || {
                let allow = allow.clone();
                async move { method_not_allowed(&allow) }
            }));
        if path.starts_with(PREFIX) {
            api = api.service(resource);
        } else {
            cfg.service(resource);
        }
    }
    cfg.service(api);
}

/// 405 for a path that exists, with the methods it has.
pub(crate) fn method_not_allowed(allow: &str) -> actix_web::HttpResponse {
    let mut res = actix_web::ResponseError::error_response(&ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("this path answers {allow}"),
    ));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
        res.headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn document() -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(health::document())
    }

    #[test]
    fn the_document_lists_exactly_the_routes() -> Result<(), serde_json::Error> {
        let doc = document()?;
        let mut documented = BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
            for method in ops.as_object().into_iter().flat_map(|o| o.keys()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let served: BTreeSet<_> = route_table().into_iter().collect();
        assert_eq!(documented, served);
        assert_eq!(doc["openapi"], "3.1.0");
        Ok(())
    }

    #[test]
    fn every_operation_is_described_and_every_reference_resolves() -> Result<(), serde_json::Error>
    {
        let doc = document()?;
        let text = doc.to_string();
        for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in ops.as_object().into_iter().flatten() {
                let at = format!("{method} {path}");
                assert!(
                    op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                    "{at}"
                );
                assert!(op["tags"][0].is_string(), "{at}");
                assert!(op["operationId"].is_string(), "{at}");
                let answers = op["responses"].as_object();
                assert!(
                    answers.is_some_and(|r| r
                        .keys()
                        .any(|k| k.starts_with('1') || k.starts_with('2'))),
                    "{at} has a successful answer"
                );
                let params: Vec<&str> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                let named: Vec<&str> = path
                    .split('{')
                    .skip(1)
                    .filter_map(|r| r.split_once('}').map(|(n, _)| n))
                    .collect();
                assert_eq!(params, named, "{at}: path parameters");
            }
        }
        let mut ids = std::collections::BTreeMap::new();
        for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
            for op in ops.as_object().into_iter().flatten().map(|(_, op)| op) {
                let id = op["operationId"].as_str().unwrap_or_default();
                assert!(ids.insert(id, path).is_none(), "operationId {id} twice");
            }
        }
        for ops in doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, ops)| ops)
        {
            for op in ops.as_object().into_iter().flatten().map(|(_, op)| op) {
                let links = op["responses"]["201"]["links"].as_object();
                for (name, link) in links.into_iter().flatten() {
                    let target = link["operationId"].as_str().unwrap_or_default();
                    let path = ids.get(target).copied();
                    assert!(path.is_some(), "link {name} to unknown {target}");
                    let given: Vec<&String> = link["parameters"]
                        .as_object()
                        .into_iter()
                        .flat_map(|p| p.keys())
                        .collect();
                    let wanted = path.map_or(0, |p| p.matches('{').count());
                    assert_eq!(
                        given.len(),
                        wanted,
                        "link {name} fills every path parameter"
                    );
                }
            }
        }
        assert!(
            doc["paths"]["/api/v1/events/{id}/sessions"]["post"]["responses"]["201"]["links"]["bookings.hold"]
                ["parameters"]["id"]
                == "$response.body#/id",
            "a new session's id flows to its holds"
        );
        let schemas = doc["components"]["schemas"].as_object();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(
                schemas.is_some_and(|s| s.contains_key(name)),
                "{name} is referenced but not defined"
            );
        }
        Ok(())
    }

    #[test]
    fn each_error_status_lists_exactly_its_codes() -> Result<(), serde_json::Error> {
        let doc = document()?;
        let not_found = &doc["components"]["schemas"]["Error404"]["properties"]["code"]["enum"];
        let codes: Vec<&str> = not_found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str())
            .collect();
        assert!(
            codes.contains(&"unknown_event") && codes.contains(&"not_found"),
            "{codes:?}"
        );
        assert!(!codes.contains(&"conflict"), "{codes:?}");
        let canvas = &doc["paths"]["/api/v1/canvases/{id}"]["get"]["responses"];
        assert_eq!(
            canvas["404"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error404"
        );
        assert_eq!(
            canvas["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error401"
        );
        Ok(())
    }
}
