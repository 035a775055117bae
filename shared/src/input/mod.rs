//! Inputs: sensor connections that feed named values to the canvases. An MQTT
//! input subscribes to topics; each of its bindings turns the messages of one
//! topic filter into a value from 0 to 1 (a JSON pointer picks the number, an
//! input range maps it, a deadband and smoothing steady it, and a fallback stands
//! in while the sensor is quiet). Layer parameters read such a value by name
//! ([`Param::Input`]).

use crate::ids::InputId;
use crate::values::{RangeError, check_short_name};
use serde::de::{self, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

mod camera;
mod mqtt;

pub use camera::*;
pub use mqtt::*;

/// Longest input or value name, in characters.
pub const MAX_INPUT_NAME_LEN: usize = 64;
/// Largest magnitude of a binding's scale and offset.
pub const MAX_SCALE: f64 = 1_000_000.0;

/// The name of an input, or of a value one of its bindings produces: 1-64
/// letters, digits, `-`, `_`, `.` or inner spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InputName(String);

crate::openapi::schema!(
    InputName,
    "InputName",
    crate::openapi::short_name(MAX_INPUT_NAME_LEN)
);

impl InputName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InputName {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        check_short_name(&s, MAX_INPUT_NAME_LEN)?;
        Ok(Self(s))
    }
}

impl From<InputName> for String {
    fn from(n: InputName) -> String {
        n.0
    }
}

impl fmt::Display for InputName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A layer parameter read from a named input value (0 to 1) each frame:
/// `scale × value + offset`, clamped to the parameter's range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InputRef {
    /// The value's name (a binding of some input).
    pub input: InputName,
    /// What a full value (1) adds; the parameter's natural span when absent
    /// (255 for a colour channel, 1 for everything else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = -1_000_000.0, maximum = 1_000_000.0))]
    pub scale: Option<f64>,
    /// What an empty value (0) gives; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = -1_000_000.0, maximum = 1_000_000.0))]
    pub offset: Option<f64>,
}

impl InputRef {
    /// Check the scale and offset.
    pub fn check(&self) -> Result<(), RangeError> {
        for (what, v) in [("scale", self.scale), ("offset", self.offset)] {
            if let Some(v) = v
                && !(v.is_finite() && v.abs() <= MAX_SCALE)
            {
                return Err(RangeError(format!(
                    "input {what} must be a number within ±{MAX_SCALE}, got {v}"
                )));
            }
        }
        Ok(())
    }

    /// The parameter for input value `value` (0..1), where a full value spans
    /// `natural` unless a scale is given.
    pub fn apply(&self, value: f64, natural: f64) -> f64 {
        value * self.scale.unwrap_or(natural) + self.offset.unwrap_or(0.0)
    }
}

/// A layer parameter: a constant, or `{"input": name}` read each frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Param<T> {
    /// A constant.
    Value(T),
    /// A named input value.
    Input(InputRef),
}

impl<T: Serialize> Serialize for Param<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Value(v) => v.serialize(serializer),
            Param::Input(r) => r.serialize(serializer),
        }
    }
}

/// Reads a constant as `T` itself (keeping `T`'s own error messages), or an
/// object as an [`InputRef`].
struct ParamVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> de::Visitor<'de> for ParamVisitor<T> {
    type Value = Param<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or {\"input\": name}")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Param<T>, E> {
        T::deserialize(v.into_deserializer()).map(Param::Value)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Param<T>, E> {
        T::deserialize(v.into_deserializer()).map(Param::Value)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Param<T>, E> {
        T::deserialize(v.into_deserializer()).map(Param::Value)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Param<T>, E> {
        T::deserialize(v.into_deserializer()).map(Param::Value)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Param<T>, E> {
        T::deserialize(v.into_deserializer()).map(Param::Value)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Param<T>, A::Error> {
        let input = InputRef::deserialize(de::value::MapAccessDeserializer::new(map))?;
        input.check().map_err(de::Error::custom)?;
        Ok(Param::Input(input))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Param<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ParamVisitor(PhantomData))
    }
}

/// An input as written: an MQTT connection, or a camera (which needs the
/// `media` build to run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputSpec {
    /// A connection to an MQTT broker and the values its topics feed.
    Mqtt(MqttInput),
    /// A camera whose blobs layers follow.
    Camera(CameraInput),
}

impl InputSpec {
    /// The input's name.
    pub fn name(&self) -> &InputName {
        match self {
            InputSpec::Mqtt(m) => &m.name,
            InputSpec::Camera(c) => &c.name,
        }
    }

    /// `mqtt` or `camera`.
    pub fn kind(&self) -> &'static str {
        match self {
            InputSpec::Mqtt(_) => "mqtt",
            InputSpec::Camera(_) => "camera",
        }
    }

    /// The names of the values it produces.
    pub fn value_names(&self) -> impl Iterator<Item = &InputName> {
        let bindings = match self {
            InputSpec::Mqtt(m) => m.bindings.as_slice(),
            InputSpec::Camera(_) => &[],
        };
        bindings.iter().map(|b| &b.name)
    }

    /// Check what serde cannot: URLs, topics, ranges, unique value names, the
    /// analysis size and mapping.
    pub fn check(&self) -> Result<(), RangeError> {
        match self {
            InputSpec::Mqtt(m) => m.check(),
            InputSpec::Camera(c) => c.check(),
        }
    }

    /// The spec with its secrets (password, TLS client key) left out, for
    /// answers.
    pub fn redacted(&self) -> InputSpec {
        match self {
            InputSpec::Mqtt(m) => InputSpec::Mqtt(MqttInput {
                password: m.password.as_ref().map(|_| REDACTED.to_owned()),
                tls: m.tls.as_ref().map(|tls| MqttTls {
                    client_key: tls.client_key.as_ref().map(|_| REDACTED.to_owned()),
                    ..tls.clone()
                }),
                ..m.clone()
            }),
            InputSpec::Camera(c) => InputSpec::Camera(c.clone()),
        }
    }
}

/// What an answer shows for a password that is set.
pub const REDACTED: &str = "********";

/// An input as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Database id.
    pub id: InputId,
    /// The input as written (its password and TLS key shown as `********`).
    #[serde(flatten)]
    pub spec: InputSpec,
}

// An input's JSON is its spec's with an `id`: one object (a derived schema would
// put the id beside a closed `oneOf`, which no answer could match).
crate::openapi::schema_with!(Input, "Input", input_schema(), [MqttInput, CameraInput]);

#[cfg(feature = "openapi")]
fn input_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    let with_id = |schema: RefOr<Schema>, kind: &str| {
        let RefOr::T(Schema::Object(mut object)) = schema else {
            return schema;
        };
        object.properties.insert(
            "id".into(),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .description(Some("Database id"))
                .into(),
        );
        object.properties.insert(
            "kind".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([kind]))
                .into(),
        );
        object.required.extend(["id".to_owned(), "kind".to_owned()]);
        RefOr::T(Schema::Object(object))
    };
    OneOfBuilder::new()
        .item(with_id(
            <MqttInput as utoipa::PartialSchema>::schema(),
            "mqtt",
        ))
        .item(with_id(
            <CameraInput as utoipa::PartialSchema>::schema(),
            "camera",
        ))
        .description(Some(
            "An input as the API returns it (an MQTT password and TLS key shown as `********`)",
        ))
        .into()
}

/// How an input's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Connecting for the first time.
    Connecting,
    /// Connected and subscribed.
    Connected,
    /// The connection was lost or refused; trying again after a backoff.
    Reconnecting,
}

/// Messages an input refused, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refused {
    /// Payloads that are not JSON (with a pointer) or not a number (without).
    pub not_json: u64,
    /// JSON payloads without a number at the pointer.
    pub not_a_number: u64,
    /// Numbers that are not finite (NaN, infinities).
    pub not_finite: u64,
    /// Payloads over the broker packet limit (refused by the client).
    pub too_large: u64,
}

/// One named value of an input, as the canvases see it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueState {
    /// The value's name.
    pub name: InputName,
    /// What a layer reads now (0..1): the latest value, or the fallback.
    pub value: f64,
    /// The last number received (before the range), if any.
    pub raw: Option<f64>,
    /// Milliseconds since the last accepted message, if any.
    pub age_ms: Option<u64>,
    /// The fallback stands in (no message yet, expired, or offline).
    pub stale: bool,
    /// Messages accepted for this value.
    pub messages: u64,
}

/// An input's live state: `GET /api/v1/inputs/{id}/state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InputState {
    /// The input.
    pub id: InputId,
    /// Its name.
    pub name: InputName,
    /// `mqtt` or `camera`.
    pub kind: String,
    /// How its connection stands.
    pub connection: Connection,
    /// Connections lost (or refused) since the input started.
    pub reconnects: u64,
    /// Why the last connection failed, if one did.
    pub last_error: Option<String>,
    /// Milliseconds until the next attempt while reconnecting.
    pub retry_in_ms: Option<u64>,
    /// The availability topic's word: `true` online, `false` offline, none
    /// before it spoke (or without one).
    pub available: Option<bool>,
    /// Messages received on the input's topics.
    pub messages: u64,
    /// Messages refused, by reason.
    pub refused: Refused,
    /// Restarts after a failure of the input itself.
    pub restarts: u32,
    /// Each binding's value (none for a camera).
    pub values: Vec<ValueState>,
    /// A camera's source frame number of the newest frame analysed (the
    /// buffer's offset); none before the first, and for MQTT.
    pub frame: Option<u64>,
    /// Frames a camera has analysed.
    pub frames: u64,
    /// A camera's blobs in its newest frame, the largest first.
    pub blobs: Vec<BlobState>,
    /// A camera's blob events so far.
    pub blob_events: BlobEvents,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mqtt(json: &str) -> Result<InputSpec, String> {
        let spec: InputSpec = serde_json::from_str(json).map_err(|e| e.to_string())?;
        spec.check().map_err(|e| e.0)?;
        Ok(spec)
    }

    #[test]
    fn the_documented_example_parses() {
        let spec = mqtt(
            r#"{"name": "lobby", "kind": "mqtt", "broker": "mqtt://127.0.0.1:1883", "bindings":
            [{"name": "lobby_level", "topic": "venue/lobby/presence", "pointer": "/level",
            "range": [0, 100], "expire_after_ms": 1500, "fallback": 0}]}"#,
        );
        let Ok(InputSpec::Mqtt(m)) = spec else {
            unreachable!("{spec:?}")
        };
        assert_eq!(
            m.address().ok(),
            Some(BrokerAddress {
                host: "127.0.0.1".into(),
                port: 1883,
                tls: false
            })
        );
        assert_eq!(m.client_id(), "limelight-lobby");
        assert_eq!(m.bindings[0].range(), [0.0, 100.0]);
    }

    #[test]
    fn mqtts_is_tls_on_port_8883_unless_told() {
        for (url, port) in [("mqtts://broker.lan", 8883), ("mqtts://[::1]:9883/", 9883)] {
            let address = broker_address(url);
            assert_eq!(
                address.as_ref().map(|a| (a.port, a.tls)),
                Ok((port, true)),
                "{url}"
            );
        }
        assert_eq!(broker_address("mqtt://h").map(|a| a.tls), Ok(false));
    }

    #[test]
    fn bad_inputs_are_refused_with_a_reason() {
        let base = |extra: &str| {
            format!(r#"{{"name": "x", "kind": "mqtt", "broker": "mqtt://h", {extra}}}"#)
        };
        for (json, says) in [
            (base(r#""bogus": 1"#), "unknown field"),
            (
                r#"{"name": "x", "kind": "mqtt", "broker": "http://h"}"#.into(),
                "mqtt://host",
            ),
            (
                r#"{"name": "x", "kind": "mqtt", "broker": "mqtt://h", "tls": {}}"#.into(),
                "need a broker at mqtts://",
            ),
            (
                r#"{"name": "x", "kind": "mqtt", "broker": "mqtts://h", "tls": {"ca": "x"}}"#
                    .into(),
                "tls.ca must be PEM",
            ),
            (
                r#"{"name": "x", "kind": "mqtt", "broker": "mqtts://h",
                "tls": {"client_cert": "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----"}}"#
                    .into(),
                "go together",
            ),
            (
                r#"{"name": "x", "kind": "mqtt", "broker": "mqtts://h",
                "tls": {"client_cert": "-----BEGIN CERTIFICATE-----", "client_key": "key"}}"#
                    .into(),
                "tls.client_key must be PEM",
            ),
            (
                r#"{"name": "x", "kind": "mqtt", "broker": "mqtt://h:0"}"#.into(),
                "port",
            ),
            (
                r#"{"name": "x", "kind": "radio", "broker": "mqtt://h"}"#.into(),
                "unknown variant",
            ),
            (
                base(r#""bindings": [{"name": "a", "topic": "a/#/b"}]"#),
                "whole levels",
            ),
            (
                base(r#""bindings": [{"name": "a", "topic": "a", "deadband": 1.5}]"#),
                "deadband",
            ),
            (
                base(r#""bindings": [{"name": "a", "topic": "a", "fallback": 2}]"#),
                "fallback",
            ),
            (
                base(r#""bindings": [{"name": "a", "topic": "a", "pointer": "level"}]"#),
                "JSON pointer",
            ),
            (
                base(r#""bindings": [{"name": "a", "topic": "a"}, {"name": "a", "topic": "b"}]"#),
                "two bindings",
            ),
            (base(r#""availability": {"topic": "a/+"}"#), "wildcards"),
            (base(r#""password": "p""#), "needs a username"),
        ] {
            let err = mqtt(&json).err().unwrap_or_default();
            assert!(err.contains(says), "{json}: {err}");
        }
    }

    #[test]
    fn a_param_is_a_constant_or_an_input_and_keeps_the_constants_own_errors() {
        let p = |json: &str| {
            serde_json::from_str::<Param<crate::values::Opacity>>(json).map_err(|e| e.to_string())
        };
        assert!(matches!(p("0.5"), Ok(Param::Value(o)) if o.get() == 0.5));
        assert!(matches!(
            p(r#"{"input": "lobby_level", "scale": 0.5}"#),
            Ok(Param::Input(InputRef {
                scale: Some(0.5),
                ..
            }))
        ));
        assert!(
            p("1.5")
                .err()
                .unwrap_or_default()
                .contains("opacity must be")
        );
        assert!(p(r#"{"input": "a", "bogus": 1}"#).is_err());
        assert!(p(r#"{"input": "a", "scale": 1e9}"#).is_err());
        let back = serde_json::to_string(&p(r#"{"input": "a"}"#).ok());
        assert_eq!(back.ok().as_deref(), Some(r#"{"input":"a"}"#));
    }

    #[test]
    fn answers_never_show_the_password() {
        let spec = mqtt(
            r#"{"name": "x", "kind": "mqtt", "broker": "mqtt://h", "username": "u", "password": "secret"}"#,
        );
        let shown = spec.map(|s| serde_json::to_string(&s.redacted()).unwrap_or_default());
        assert!(shown.is_ok_and(|s| !s.contains("secret") && s.contains(REDACTED)));
    }
}
