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

/// Longest input or value name, in characters.
pub const MAX_INPUT_NAME_LEN: usize = 64;
/// Most bindings one input may have.
pub const MAX_BINDINGS: usize = 256;
/// Longest topic, in bytes.
pub const MAX_TOPIC_LEN: usize = 256;
/// Longest broker URL, client id, user name or password, in bytes.
pub const MAX_SETTING_LEN: usize = 256;
/// Longest a value may stay fresh without a message: one day.
pub const MAX_EXPIRE_AFTER_MS: u32 = 86_400_000;
/// Longest smoothing time constant: one minute.
pub const MAX_SMOOTHING_MS: u32 = 60_000;
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

/// An input as written: an MQTT connection (cameras come with the `media` build).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputSpec {
    /// A connection to an MQTT broker and the values its topics feed.
    Mqtt(MqttInput),
}

impl InputSpec {
    /// The input's name.
    pub fn name(&self) -> &InputName {
        match self {
            InputSpec::Mqtt(m) => &m.name,
        }
    }

    /// The names of the values it produces.
    pub fn value_names(&self) -> impl Iterator<Item = &InputName> {
        match self {
            InputSpec::Mqtt(m) => m.bindings.iter().map(|b| &b.name),
        }
    }

    /// Check what serde cannot: URLs, topics, ranges, unique value names.
    pub fn check(&self) -> Result<(), RangeError> {
        match self {
            InputSpec::Mqtt(m) => m.check(),
        }
    }

    /// The spec with its secret left out, for answers.
    pub fn redacted(&self) -> InputSpec {
        match self {
            InputSpec::Mqtt(m) => InputSpec::Mqtt(MqttInput {
                password: m.password.as_ref().map(|_| REDACTED.to_owned()),
                ..m.clone()
            }),
        }
    }
}

/// What an answer shows for a password that is set.
pub const REDACTED: &str = "********";

/// An MQTT input: where the broker is, who Limelight is to it, and the bindings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MqttInput {
    /// Unique name of the input.
    pub name: InputName,
    /// `mqtt://host[:port]` (port 1883 by default).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^mqtt://([^/@?#:\s\[\]\x00-\x1f\x7f-\x9f]+|\[[0-9A-Fa-f:.]+\])(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?/?$",
            max_length = 256
        )
    )]
    pub broker: String,
    /// Client id at the broker; `limelight-<name>` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\x00-\x1f\x7f-\x9f]+$",
            min_length = 1,
            max_length = 256
        )
    )]
    pub client_id: Option<String>,
    /// User name at the broker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", max_length = 256)
    )]
    pub username: Option<String>,
    /// Password at the broker (never shown: answers carry `********`); needs a
    /// username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", max_length = 256)
    )]
    pub password: Option<String>,
    /// A topic whose retained `online` / `offline` says whether the sensors are
    /// there; while offline every binding gives its fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<AvailabilityTopic>,
    /// Topic filters and the values they feed (up to [`MAX_BINDINGS`]), their
    /// names distinct.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 256))]
    pub bindings: Vec<MqttBinding>,
}

/// Where a broker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl MqttInput {
    /// The broker's host and port from `broker`.
    pub fn address(&self) -> Result<BrokerAddress, RangeError> {
        broker_address(&self.broker)
    }

    /// The client id at the broker.
    pub fn client_id(&self) -> String {
        self.client_id
            .clone()
            .unwrap_or_else(|| format!("limelight-{}", self.name).replace(' ', "-"))
    }

    fn check(&self) -> Result<(), RangeError> {
        self.address()?;
        for (what, v) in [
            ("broker", Some(&self.broker)),
            ("client_id", self.client_id.as_ref()),
            ("username", self.username.as_ref()),
            ("password", self.password.as_ref()),
        ] {
            if let Some(v) = v
                && (v.chars().count() > MAX_SETTING_LEN || v.chars().any(char::is_control))
            {
                return Err(RangeError(format!(
                    "{what} must be at most {MAX_SETTING_LEN} bytes without control characters"
                )));
            }
        }
        if let Some(id) = &self.client_id
            && id.is_empty()
        {
            return Err(RangeError(
                "client_id must not be empty (leave it out for limelight-<name>)".into(),
            ));
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(RangeError("a password needs a username".into()));
        }
        if self.bindings.len() > MAX_BINDINGS {
            return Err(RangeError(format!(
                "an input has at most {MAX_BINDINGS} bindings, got {}",
                self.bindings.len()
            )));
        }
        if let Some(a) = &self.availability {
            check_topic(&a.topic, false)?;
            if a.online == a.offline {
                return Err(RangeError(
                    "availability online and offline payloads must differ".into(),
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for b in &self.bindings {
            b.check()?;
            if !names.insert(&b.name) {
                return Err(RangeError(format!(
                    "two bindings of one input are named {:?}",
                    b.name.as_str()
                )));
            }
        }
        Ok(())
    }
}

/// A topic telling whether the sensors are there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AvailabilityTopic {
    /// The topic (no wildcards).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[^+#\x00]+$", max_length = 256)
    )]
    pub topic: String,
    /// Payload meaning the sensors are there (default `online`).
    #[serde(default = "online")]
    pub online: String,
    /// Payload meaning they are gone (default `offline`); differs from `online`.
    #[serde(default = "offline")]
    pub offline: String,
}

fn online() -> String {
    "online".into()
}
fn offline() -> String {
    "offline".into()
}

/// One topic filter feeding one named value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MqttBinding {
    /// The value's name, unique across every input; layers read it by this name.
    pub name: InputName,
    /// Topic filter (`+` and `#` wildcards allowed, each a whole level, `#` last).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^(#|(\+|[^+#/\x00]*)(/(\+|[^+#/\x00]*))*(/#)?)$",
            min_length = 1,
            max_length = 256
        )
    )]
    pub topic: String,
    /// JSON pointer to the number in a JSON payload (RFC 6901); without one the
    /// payload is the number itself (`42`, `42.5`, or JSON holding only a number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^(/.*)?$"))]
    pub pointer: Option<String>,
    /// The sensor's numbers that map to 0 and 1 (`[0, 1]` when absent; a reversed
    /// range inverts); what falls outside is clamped. Equal ends make a
    /// threshold: 1 at or above it, 0 below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 2))]
    pub range: Option<[f64; 2]>,
    /// Changes smaller than this (in 0..1 after the range) are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub deadband: Option<f64>,
    /// Time constant of a low-pass filter over the messages, in milliseconds
    /// (0 or absent: each message's value as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(maximum = 60_000))]
    pub smoothing_ms: Option<u32>,
    /// The value goes stale this long after the last message; none: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 86_400_000))]
    pub expire_after_ms: Option<u32>,
    /// The value (0..1) given before the first message, while stale, and while the
    /// availability topic says offline; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub fallback: Option<f64>,
}

impl MqttBinding {
    /// The value given while the sensor is quiet.
    pub fn fallback(&self) -> f64 {
        self.fallback.unwrap_or(0.0)
    }

    /// The sensor's numbers that map to 0 and 1.
    pub fn range(&self) -> [f64; 2] {
        self.range.unwrap_or([0.0, 1.0])
    }

    fn check(&self) -> Result<(), RangeError> {
        check_topic(&self.topic, true)?;
        if let Some(p) = &self.pointer
            && !(p.is_empty() || p.starts_with('/'))
        {
            return Err(RangeError(format!(
                "pointer must be a JSON pointer (\"\" or starting with '/'), got {p:?}"
            )));
        }
        let [lo, hi] = self.range();
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(RangeError(format!(
                "range must be two finite numbers, got [{lo}, {hi}]"
            )));
        }
        for (what, v) in [("deadband", self.deadband), ("fallback", self.fallback)] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return Err(RangeError(format!(
                    "{what} must be between 0 and 1, got {v}"
                )));
            }
        }
        if let Some(ms) = self.smoothing_ms
            && ms > MAX_SMOOTHING_MS
        {
            return Err(RangeError(format!(
                "smoothing_ms must be at most {MAX_SMOOTHING_MS}, got {ms}"
            )));
        }
        if let Some(ms) = self.expire_after_ms
            && !(1..=MAX_EXPIRE_AFTER_MS).contains(&ms)
        {
            return Err(RangeError(format!(
                "expire_after_ms must be 1 to {MAX_EXPIRE_AFTER_MS}, got {ms}"
            )));
        }
        Ok(())
    }
}

/// Check a topic (`filter`: wildcards allowed, each a whole level, `#` last).
fn check_topic(topic: &str, filter: bool) -> Result<(), RangeError> {
    if topic.is_empty() || topic.chars().count() > MAX_TOPIC_LEN || topic.contains('\0') {
        return Err(RangeError(format!(
            "topic must be 1 to {MAX_TOPIC_LEN} bytes, got {topic:?}"
        )));
    }
    let levels: Vec<&str> = topic.split('/').collect();
    for (i, level) in levels.iter().enumerate() {
        let wild = level.contains(['+', '#']);
        if !filter && wild {
            return Err(RangeError(format!(
                "topic {topic:?} must not hold wildcards"
            )));
        }
        let whole = *level == "+" || (*level == "#" && i + 1 == levels.len());
        if wild && !whole {
            return Err(RangeError(format!(
                "topic filter {topic:?}: '+' and '#' stand for whole levels, '#' only last"
            )));
        }
    }
    Ok(())
}

/// The host and port of a broker URL, `mqtt://host[:port]` (port 1883 by default).
pub fn broker_address(url: &str) -> Result<BrokerAddress, RangeError> {
    let err = |why: &str| {
        RangeError(format!(
            "broker must be mqtt://host[:port] ({why}), got {url:?}"
        ))
    };
    if url.starts_with("mqtts://") {
        return Err(RangeError(
            "TLS to the broker (mqtts://) is not supported by this build; use mqtt://".into(),
        ));
    }
    let rest = url
        .strip_prefix("mqtt://")
        .ok_or_else(|| err("the scheme is mqtt://"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '@', '?', '#', ' ']) {
        return Err(err("a host, then an optional port"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
            let port = port
                .parse::<u16>()
                .map_err(|_| err("the port is 1-65535"))?;
            if port == 0 {
                return Err(err("the port is 1-65535"));
            }
            (host, port)
        }
        _ => (rest, 1883),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(err("a host"));
    }
    Ok(BrokerAddress {
        host: host.to_owned(),
        port,
    })
}

/// Check a topic prefix Limelight publishes under: a topic without wildcards.
pub fn check_prefix(prefix: &str) -> Result<(), RangeError> {
    check_topic(prefix, false)
}

/// An input as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Database id.
    pub id: InputId,
    /// The input as written (its password shown as `********`).
    #[serde(flatten)]
    pub spec: InputSpec,
}

// An input's JSON is its spec's with an `id`: one object (a derived schema would
// put the id beside a closed `oneOf`, which no answer could match).
crate::openapi::schema_with!(Input, "Input", input_schema(), [MqttInput]);

#[cfg(feature = "openapi")]
fn input_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    let RefOr::T(Schema::Object(mut object)) = <MqttInput as utoipa::PartialSchema>::schema()
    else {
        return <MqttInput as utoipa::PartialSchema>::schema();
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
            .enum_values(Some(["mqtt"]))
            .into(),
    );
    object.required.extend(["id".to_owned(), "kind".to_owned()]);
    object.description =
        Some("An input as the API returns it (its password shown as `********`)".into());
    RefOr::T(Schema::Object(object))
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
    /// `mqtt`.
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
    /// Each binding's value.
    pub values: Vec<ValueState>,
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
                port: 1883
            })
        );
        assert_eq!(m.client_id(), "limelight-lobby");
        assert_eq!(m.bindings[0].range(), [0.0, 100.0]);
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
                r#"{"name": "x", "kind": "mqtt", "broker": "mqtts://h"}"#.into(),
                "TLS",
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
