//! Request ids: each request carries one, taken from its `X-Request-Id` header when
//! the client (or a proxy in front) sent a usable one, else generated. It is echoed
//! in the answer's `X-Request-Id`, is a field of every log line the request writes,
//! and is in every error body, so a user's report leads straight to the log.

use actix_web::http::header::{HeaderName, HeaderValue};

/// The header that carries the id both ways.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id taken from a client; a longer one is replaced.
const MAX_LEN: usize = 128;

tokio::task_local! {
    /// The id of the request this task serves.
    static CURRENT: String;
}

/// The id for a request with these headers.
pub fn of(headers: &actix_web::http::header::HeaderMap) -> String {
    headers
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| usable(id))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned)
}

/// An id a client may choose: short, and safe to put in a log line and a header.
fn usable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
}

/// Run `task` as the request with this id.
pub async fn scope<F: Future>(id: String, task: F) -> F::Output {
    CURRENT.scope(id, task).await
}

/// The id of the request being served, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(String::clone).ok()
}

/// The id as a header value.
pub fn header_value(id: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderMap;

    #[test]
    fn a_usable_id_is_kept_and_any_other_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("lb-7f3a:42"));
        assert_eq!(of(&headers), "lb-7f3a:42");
        headers.insert(HEADER, HeaderValue::from_static("has space"));
        let generated = of(&headers);
        assert_eq!(generated.len(), 32);
        assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(of(&HeaderMap::new()), generated);
    }
}
