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
    // serde reads a struct from an array of its fields too; no body is written so.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            "the body must be a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => Ok(value),
        Err(e)
            if e.inner()
                .to_string()
                .contains("invalid type: floating point") =>
        {
            // JSON has one number type: 2.0 is the integer 2. Read such numbers as
            // integers and try again (from a tree, so without line and column).
            let mut tree: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| ApiError::new(ErrorCode::InvalidJson, e.to_string()))?;
            integers(&mut tree);
            serde_path_to_error::deserialize(tree).map_err(shape_error)
        }
        Err(e) => Err(shape_error(e)),
    }
}

/// A body of the wrong shape, naming the field's path.
fn shape_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = if path == "." {
        inner.to_string()
    } else {
        format!("{path}: {inner}")
    };
    ApiError::new(ErrorCode::ValidationFailed, message)
}

/// Turn every whole-valued float that fits an integer into that integer.
fn integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0)
                && f.abs() < 9.007_199_254_740_992e15
            {
                // Exact: within f64's integer range.
                let whole = f as i64;
                *value = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integers),
        Value::Object(map) => map.values_mut().for_each(integers),
        _ => {}
    }
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

/// Read and parse a body; `None` when it is empty and `optional`.
async fn body<T: DeserializeOwned>(
    req: HttpRequest,
    mut payload: Payload,
    optional: bool,
) -> Result<Option<T>, ApiError> {
    let bytes = read(&req, &mut payload).await?;
    if optional && bytes.is_empty() {
        return Ok(None);
    }
    if !is_json(&req) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "body must be application/json",
        ));
    }
    parse(&bytes).map(Some)
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = body(req.clone(), payload.take(), false);
        Box::pin(async move {
            match read.await? {
                Some(value) => Ok(Json(value)),
                None => Err(ApiError::new(ErrorCode::InvalidJson, "a body is needed")),
            }
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
        let read = body(req.clone(), payload.take(), true);
        Box::pin(async move { read.await.map(OptionalJson) })
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
    fn a_whole_number_written_with_a_fraction_is_an_integer() {
        assert!(parse::<Scene>(b"{\"layers\": [{\"fade_ms\": 250.0}]}").is_ok());
        let (code, message) = refusal("{\"layers\": [{\"fade_ms\": 2.5}]}");
        assert_eq!(code, ErrorCode::ValidationFailed, "{message}");
        assert!(message.starts_with("layers[0].fade_ms: "), "{message}");
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
        for body in ["[]", "[[{\"fade_ms\": 1}]]", "7"] {
            let (code, message) = refusal(body);
            assert_eq!(code, ErrorCode::ValidationFailed, "{body}: {message}");
        }
    }
}
