//! REST routes under `/api/v1`, plus health and metrics. Handlers parse, check the
//! permission, call the `EngineHandle`, and map the result; nothing else.
//!
//! The routes are one table, so the router and the OpenAPI check read the same list.

mod audit;
mod auth;
mod bookings;
mod canvases;
mod cues;
mod events;
mod health;
mod live;
mod rooms;
mod scenes;
mod schedule;
mod users;
mod waitlists;

pub use health::OPENAPI;

use crate::error::ApiError;
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, Route, web};
use limelight_shared::error::ErrorCode;

const PREFIX: &str = "/api/v1";

fn r<F, Args>(method: Method, path: &'static str, handler: F) -> (Method, &'static str, Route)
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    (method.clone(), path, web::method(method).to(handler))
}

/// Every route: method, path, handler. Paths below `/api/v1` start with it.
fn table() -> Vec<(Method, &'static str, Route)> {
    use Method as M;
    vec![
        r(M::POST, "/api/v1/auth/login", auth::login),
        r(M::POST, "/api/v1/auth/signup", auth::signup),
        r(M::GET, "/api/v1/auth/me", auth::me),
        r(M::GET, "/api/v1/users", users::list),
        r(M::POST, "/api/v1/users", users::create),
        r(M::GET, "/api/v1/users/{id}", users::get),
        r(M::PATCH, "/api/v1/users/{id}", users::update),
        r(M::DELETE, "/api/v1/users/{id}", users::delete),
        r(M::GET, "/api/v1/canvases", canvases::list),
        r(M::POST, "/api/v1/canvases", canvases::create),
        r(M::GET, "/api/v1/canvases/{id}", canvases::get),
        r(M::PUT, "/api/v1/canvases/{id}", canvases::update),
        r(M::DELETE, "/api/v1/canvases/{id}", canvases::delete),
        r(M::GET, "/api/v1/canvases/{id}/state", live::state),
        r(M::POST, "/api/v1/canvases/{id}/scene", live::trigger_scene),
        r(M::POST, "/api/v1/canvases/{id}/blackout", live::blackout),
        r(M::POST, "/api/v1/canvases/{id}/master", live::master),
        r(M::POST, "/api/v1/canvases/{id}/emergency", live::emergency),
        r(M::POST, "/api/v1/canvases/{id}/cues", cues::command),
        r(M::POST, "/api/v1/canvases/{id}/release", schedule::release),
        r(M::POST, "/api/v1/canvases/{id}/advance", schedule::advance),
        r(M::GET, "/api/v1/state", live::states),
        r(M::GET, "/api/v1/grand-master", live::grand_master),
        r(M::PUT, "/api/v1/grand-master", live::set_grand_master),
        r(M::GET, "/api/v1/scenes", scenes::list),
        r(M::POST, "/api/v1/scenes", scenes::create),
        r(M::GET, "/api/v1/scenes/{id}", scenes::get),
        r(M::PUT, "/api/v1/scenes/{id}", scenes::update),
        r(M::DELETE, "/api/v1/scenes/{id}", scenes::delete),
        r(M::GET, "/api/v1/schedule", schedule::list),
        r(M::POST, "/api/v1/schedule", schedule::create),
        r(M::GET, "/api/v1/schedule/preview", schedule::preview),
        r(M::GET, "/api/v1/schedule/timeline", schedule::timeline),
        r(M::GET, "/api/v1/schedule/{id}", schedule::get),
        r(M::PUT, "/api/v1/schedule/{id}", schedule::update),
        r(M::DELETE, "/api/v1/schedule/{id}", schedule::delete),
        r(M::GET, "/api/v1/overrides", schedule::overrides),
        r(M::GET, "/api/v1/cue-lists", cues::list),
        r(M::POST, "/api/v1/cue-lists", cues::create),
        r(M::GET, "/api/v1/cue-lists/{id}", cues::get),
        r(M::PUT, "/api/v1/cue-lists/{id}", cues::update),
        r(M::DELETE, "/api/v1/cue-lists/{id}", cues::delete),
        r(M::POST, "/api/v1/panic", cues::panic),
        r(M::GET, "/api/v1/venues", events::list_venues),
        r(M::POST, "/api/v1/venues", events::create_venue),
        r(M::GET, "/api/v1/venues/{id}", events::get_venue),
        r(M::PUT, "/api/v1/venues/{id}", events::update_venue),
        r(M::DELETE, "/api/v1/venues/{id}", events::delete_venue),
        r(M::GET, "/api/v1/events", events::list_events),
        r(M::POST, "/api/v1/events", events::create_event),
        r(M::GET, "/api/v1/events/{id}", events::get_event),
        r(M::PUT, "/api/v1/events/{id}", events::update_event),
        r(M::DELETE, "/api/v1/events/{id}", events::delete_event),
        r(
            M::GET,
            "/api/v1/events/{id}/sessions",
            events::list_sessions,
        ),
        r(
            M::POST,
            "/api/v1/events/{id}/sessions",
            events::create_session,
        ),
        r(M::GET, "/api/v1/sessions/{id}", events::get_session),
        r(M::PUT, "/api/v1/sessions/{id}", events::update_session),
        r(M::DELETE, "/api/v1/sessions/{id}", events::delete_session),
        r(
            M::GET,
            "/api/v1/sessions/{id}/availability",
            bookings::availability,
        ),
        r(M::POST, "/api/v1/sessions/{id}/holds", bookings::hold),
        r(
            M::POST,
            "/api/v1/sessions/{id}/holds/{hold}/confirm",
            bookings::confirm,
        ),
        r(
            M::DELETE,
            "/api/v1/sessions/{id}/holds/{hold}",
            bookings::release,
        ),
        r(M::GET, "/api/v1/sessions/{id}/bookings", bookings::list),
        r(M::POST, "/api/v1/sessions/{id}/bookings", bookings::book),
        r(
            M::DELETE,
            "/api/v1/sessions/{id}/bookings/{booking}",
            bookings::release,
        ),
        r(M::GET, "/api/v1/me/bookings", bookings::mine),
        r(M::GET, "/api/v1/sessions/{id}/room", rooms::snapshot),
        r(
            M::POST,
            "/api/v1/sessions/{id}/room/polls",
            rooms::create_poll,
        ),
        r(
            M::POST,
            "/api/v1/sessions/{id}/room/polls/{poll}/status",
            rooms::poll_status,
        ),
        r(
            M::POST,
            "/api/v1/sessions/{id}/room/messages/{message}/moderate",
            rooms::moderate_message,
        ),
        r(
            M::POST,
            "/api/v1/sessions/{id}/room/questions/{question}/moderate",
            rooms::moderate_question,
        ),
        r(M::GET, "/api/v1/sessions/{id}/waitlist", waitlists::list),
        r(M::POST, "/api/v1/sessions/{id}/waitlist", waitlists::join),
        r(M::GET, "/api/v1/sessions/{id}/waitlist/me", waitlists::mine),
        r(
            M::DELETE,
            "/api/v1/sessions/{id}/waitlist/me",
            waitlists::leave,
        ),
        r(M::GET, "/api/v1/incidents", events::list_incidents),
        r(M::POST, "/api/v1/incidents", events::create_incident),
        r(M::GET, "/api/v1/incidents/{id}", events::get_incident),
        r(M::PUT, "/api/v1/incidents/{id}", events::update_incident),
        r(M::DELETE, "/api/v1/incidents/{id}", events::delete_incident),
        r(M::GET, "/api/v1/audit", audit::list),
        r(M::GET, "/api/v1/openapi.json", health::openapi),
        r(M::GET, "/api/v1/ws", crate::ws::connect),
        r(M::GET, "/healthz", health::healthz),
        r(M::GET, "/readyz", health::readyz),
        r(M::GET, "/metrics", health::metrics),
    ]
}

/// Method and path of every route, e.g. `("POST", "/api/v1/auth/login")`.
pub fn route_table() -> Vec<(String, String)> {
    table()
        .into_iter()
        .map(|(m, p, _)| (m.to_string(), p.to_owned()))
        .collect()
}

/// Register every route: one resource per path, holding each of its methods. A
/// method the path does not have answers 405 with an `Allow` header naming those
/// it has.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Paths in the table's order: `/schedule/preview` must come before `/schedule/{id}`.
    let mut paths: Vec<(&'static str, Vec<(Method, Route)>)> = Vec::new();
    for (method, path, route) in table() {
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
fn method_not_allowed(allow: &str) -> actix_web::HttpResponse {
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

    #[test]
    fn the_openapi_document_lists_exactly_the_routes() -> Result<(), serde_json::Error> {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI)?;
        let mut documented = BTreeSet::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, ops) in paths {
                for method in ops.as_object().into_iter().flat_map(|o| o.keys()) {
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let served: BTreeSet<_> = route_table().into_iter().collect();
        assert_eq!(documented, served);
        Ok(())
    }
}
