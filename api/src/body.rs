//! The one way a JSON body is read, over REST and the WebSocket alike:
//!
//! - not JSON at all: 400 `invalid_json`, with the line and column where it breaks;
//! - JSON of the wrong shape or with a value out of range: 422 `validation_failed`,
//!   naming the field's path (`layers[0].color`) as well as the line and column;
//! - over the size limit: 413 `payload_too_large`; not `application/json`: 415.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use limelight_shared::error::ErrorCode;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::future::Future;
use std::pin::Pin;

/// Parse a JSON document into `T`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, over the whole document: a body broken after a field of the
    // wrong type is still "not JSON", whatever the first error met would be.
    if let Err(e) = serde_json::from_slice::<IgnoredAny>(bytes) {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body is not JSON: {e}"),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        };
        ApiError::new(ErrorCode::ValidationFailed, message)
    })
}

/// A JSON request body of type `T`, read by [`parse`].
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Whether a request says its body is JSON.
fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Read the raw body within the configured limit.
pub(crate) async fn read(req: &HttpRequest, payload: &mut Payload) -> Result<web::Bytes, ApiError> {
    web::Bytes::from_request(req, payload).await.map_err(|e| {
        if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "body is over the size limit")
        } else {
            ApiError::new(
                ErrorCode::InvalidJson,
                format!("the body cannot be read: {e}"),
            )
        }
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json(&req) {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "body must be application/json",
                ));
            }
            let bytes = read(&req, &mut payload).await?;
            parse(&bytes).map(Json)
        })
    }
}

/// An optional JSON body: none when the request has no body at all.
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read(&req, &mut payload).await?;
            if bytes.is_empty() {
                return Ok(OptionalJson(None));
            }
            if !is_json(&req) {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "body must be application/json",
                ));
            }
            parse(&bytes).map(|v| OptionalJson(Some(v)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed")]
    struct Layer {
        fade_ms: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "only parsed")]
    struct Scene {
        layers: Vec<Layer>,
    }

    fn refusal(body: &str) -> (ErrorCode, String) {
        match parse::<Scene>(body.as_bytes()) {
            Ok(scene) => (ErrorCode::Internal, format!("accepted: {scene:?}")),
            Err(e) => (e.code, e.message),
        }
    }

    #[test]
    fn a_body_that_is_not_json_is_invalid_json_with_its_position() {
        for body in [
            "{,}",
            "",
            "{\"layers\": []} trailing",
            "{\"layers\": [{\"fade_ms\": \"x\"}",
        ] {
            let (code, message) = refusal(body);
            assert_eq!(code, ErrorCode::InvalidJson, "{body}: {message}");
            assert!(message.contains("line 1 column"), "{message}");
        }
    }

    #[test]
    fn json_of_the_wrong_shape_names_the_field_path() {
        let (code, message) = refusal("{\"layers\": [{\"fade_ms\": 1}, {\"fade_ms\": -1}]}");
        assert_eq!(code, ErrorCode::ValidationFailed);
        assert!(message.starts_with("layers[1].fade_ms: "), "{message}");
        let (code, message) = refusal("{\"layers\": [{\"fade\": 1}]}");
        assert_eq!(code, ErrorCode::ValidationFailed);
        assert!(
            message.contains("layers[0]") && message.contains("fade"),
            "{message}"
        );
        let (code, message) = refusal("[]");
        assert_eq!(code, ErrorCode::ValidationFailed, "{message}");
    }
}
