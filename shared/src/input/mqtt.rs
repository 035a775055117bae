//! MQTT inputs: a broker connection and the bindings that turn its topics into
//! named values.

use super::InputName;
use crate::values::RangeError;
use serde::{Deserialize, Serialize};

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
/// Longest PEM text (certificates or a key) in an input's TLS settings.
pub const MAX_PEM_LEN: usize = 65_536;

/// An MQTT input: where the broker is, who Limelight is to it, and the bindings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MqttInput {
    /// Unique name of the input.
    pub name: InputName,
    /// `mqtt://host[:port]` (port 1883 by default), or `mqtts://host[:port]`
    /// for TLS (port 8883 by default).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^mqtts?://([^/@?#:\s\[\]\x00-\x1f\x7f-\x9f]+|\[[0-9A-Fa-f:.]+\])(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?/?$",
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
    /// How to trust the broker and prove who Limelight is, over `mqtts://`;
    /// without it the system's certificate authorities are trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<MqttTls>,
    /// Topic filters and the values they feed (up to [`MAX_BINDINGS`]), their
    /// names distinct.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 256))]
    pub bindings: Vec<MqttBinding>,
}

/// TLS settings of a broker connection, as PEM text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MqttTls {
    /// Certificates of the authorities that sign the broker's certificate (PEM,
    /// one or more); the system's authorities when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 65_536))]
    pub ca: Option<String>,
    /// Limelight's own certificate chain (PEM), for brokers that ask clients
    /// for one; needs `client_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 65_536))]
    pub client_cert: Option<String>,
    /// The private key of `client_cert` (PEM; never shown: answers carry
    /// `********`, and `********` written back keeps the stored key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 65_536))]
    pub client_key: Option<String>,
}

impl MqttTls {
    /// Check what can be checked without parsing the certificates: sizes, PEM
    /// armour, and a key with its certificate.
    pub fn check(&self) -> Result<(), RangeError> {
        for (what, v, label) in [
            ("ca", &self.ca, "CERTIFICATE"),
            ("client_cert", &self.client_cert, "CERTIFICATE"),
            ("client_key", &self.client_key, "PRIVATE KEY"),
        ] {
            let Some(v) = v else { continue };
            if v.len() > MAX_PEM_LEN {
                return Err(RangeError(format!(
                    "tls.{what} must be at most {MAX_PEM_LEN} bytes, got {}",
                    v.len()
                )));
            }
            // A key written back as shown keeps the stored one.
            if what == "client_key" && v == super::REDACTED {
                continue;
            }
            let armoured = v.lines().any(|l| {
                l.starts_with("-----BEGIN ") && l.trim_end().ends_with(&format!("{label}-----"))
            });
            if !armoured {
                return Err(RangeError(format!(
                    "tls.{what} must be PEM text with a -----BEGIN ...{label}----- line"
                )));
            }
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(RangeError(
                "tls.client_cert and tls.client_key go together".into(),
            ));
        }
        Ok(())
    }
}

/// Where a broker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Over TLS (`mqtts://`).
    pub tls: bool,
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

    pub(super) fn check(&self) -> Result<(), RangeError> {
        let address = self.address()?;
        if let Some(tls) = &self.tls {
            if !address.tls {
                return Err(RangeError(
                    "tls settings need a broker at mqtts://host[:port]".into(),
                ));
            }
            tls.check()?;
        }
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

    pub(super) fn check(&self) -> Result<(), RangeError> {
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

/// The host and port of a broker URL, `mqtt://host[:port]` (port 1883 by
/// default) or `mqtts://host[:port]` over TLS (port 8883 by default).
pub fn broker_address(url: &str) -> Result<BrokerAddress, RangeError> {
    let err = |why: &str| {
        RangeError(format!(
            "broker must be mqtt://host[:port] or mqtts://host[:port] ({why}), got {url:?}"
        ))
    };
    let (rest, tls, default_port) = if let Some(rest) = url.strip_prefix("mqtt://") {
        (rest, false, 1883)
    } else if let Some(rest) = url.strip_prefix("mqtts://") {
        (rest, true, 8883)
    } else {
        return Err(err("the scheme is mqtt:// or mqtts://"));
    };
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
        _ => (rest, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(err("a host"));
    }
    Ok(BrokerAddress {
        host: host.to_owned(),
        port,
        tls,
    })
}

/// Check a topic prefix Limelight publishes under: a topic without wildcards.
pub fn check_prefix(prefix: &str) -> Result<(), RangeError> {
    check_topic(prefix, false)
}
