//! Configuration: one typed struct, read from a TOML file and then overridden by
//! `LIMELIGHT_*` environment variables. Unknown keys and unknown `LIMELIGHT_*`
//! variables are refused, so a typo never silently falls back to a default.

use limelight_engine::EngineConfig;
use limelight_engine::Site;

/// UTC at 0°, 0°: only for a configuration built in code without `load`.
const FALLBACK_VENUE: Site = Site {
    tz: chrono_tz::UTC,
    latitude: 0.0,
    longitude: 0.0,
};
use limelight_shared::users::Role;
use secrecy::SecretString;
use serde::Deserialize;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// Everything Limelight can be configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP/WebSocket server listens on (`LIMELIGHT_HTTP_ADDR`).
    pub http_addr: SocketAddr,
    /// Directory for the SQLite database and the token-signing secret
    /// (`LIMELIGHT_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; a SQLite file in `data_dir` when absent
    /// (`LIMELIGHT_DATABASE_URL`).
    pub database_url: Option<String>,
    /// Password of the first admin, used only when there is no user yet; generated
    /// and printed once when absent (`LIMELIGHT_ADMIN_PASSWORD`).
    pub admin_password: Option<SecretString>,
    /// Secret that signs tokens; generated and kept in `data_dir` when absent
    /// (`LIMELIGHT_JWT_SECRET`).
    pub jwt_secret: Option<SecretString>,
    /// How long a login token lasts, in minutes (`LIMELIGHT_TOKEN_TTL_MINUTES`).
    pub token_ttl_minutes: u32,
    /// Scene files seeded into an empty database (`LIMELIGHT_SCENES_DIR`).
    pub scenes_dir: PathBuf,
    /// Seed the demo venue's five canvases into an empty database
    /// (`LIMELIGHT_SEED_DEMO_VENUE`).
    pub seed_demo_venue: bool,
    /// Largest request body accepted, in bytes (`LIMELIGHT_MAX_BODY_BYTES`);
    /// uploads, which stream to disk, have their own limit.
    pub max_body_bytes: usize,
    /// Largest upload taken, in bytes: tus's `Tus-Max-Size`
    /// (`LIMELIGHT_TUS_MAX_SIZE`).
    pub tus_max_size: u64,
    /// Hours an unfinished upload is kept after its last chunk
    /// (`LIMELIGHT_UPLOAD_TTL_HOURS`).
    pub upload_ttl_hours: u32,
    /// HTTP worker threads; one per core when absent (`LIMELIGHT_HTTP_WORKERS`).
    pub http_workers: Option<usize>,
    /// The Redis the nodes share (`redis://host[:port][/db]`); rate limits hold
    /// across every node through it. Each node on its own when absent
    /// (`LIMELIGHT_REDIS_URL`).
    pub redis_url: Option<String>,
    /// REST requests a user may make a minute, for every role without a rate of
    /// its own under `[roles.<role>]`; 0 turns the limit off
    /// (`LIMELIGHT_RATE_LIMIT_PER_MINUTE`).
    pub rate_limit_per_minute: u32,
    /// Per role: `[roles.operator] rate_limit_per_minute = 600`
    /// (`LIMELIGHT_ROLES_OPERATOR_RATE_LIMIT_PER_MINUTE`).
    pub roles: std::collections::BTreeMap<String, RoleConfig>,
    /// WebSocket commands a user may send a minute; 0: no limit
    /// (`LIMELIGHT_WS_RATE_LIMIT_PER_MINUTE`).
    pub ws_rate_limit_per_minute: u32,
    /// Login attempts a minute per username, and five times as many per client
    /// address; 0: no limit (`LIMELIGHT_LOGIN_RATE_LIMIT_PER_MINUTE`).
    pub login_rate_limit_per_minute: u32,
    /// This node's name among the nodes sharing a PostgreSQL database; it also
    /// seeds the node's sACN component ids. The host name when absent
    /// (`LIMELIGHT_NODE_NAME`).
    pub node_name: Option<String>,
    /// Keep each HTTP worker on a core of its own, in turn over the cores the
    /// process may use (`LIMELIGHT_HTTP_PIN_WORKERS`). For a machine that runs
    /// Limelight alone.
    pub http_pin_workers: bool,
    /// `SCHED_FIFO` priority (1-99) of the threads that render and send frames, or
    /// 0 for normal scheduling (`LIMELIGHT_FRAME_PRIORITY`).
    pub frame_priority: u8,
    /// sACN output.
    pub sacn: SacnConfig,
    /// Where the venue is, for sun-relative schedule entries, and its time zone.
    pub venue: VenueConfig,
    /// Limelight's own MQTT connection: its status and the canvases' states.
    pub mqtt: MqttConfig,
}

/// Settings of one role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoleConfig {
    /// REST requests a user of this role may make a minute; 0: no limit.
    pub rate_limit_per_minute: Option<u32>,
}

/// Limelight's own MQTT connection (sensor inputs have their own, over REST).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host[:port]` or `mqtts://host[:port]` (TLS) of the broker to
    /// publish to; nothing is published when absent (`LIMELIGHT_MQTT_URL`).
    pub url: Option<String>,
    /// PEM file of the authorities that sign an `mqtts://` broker's certificate;
    /// the system's when absent (`LIMELIGHT_MQTT_CA_FILE`).
    pub ca_file: Option<PathBuf>,
    /// PEM file of Limelight's client certificate, for brokers that ask for one
    /// (`LIMELIGHT_MQTT_CLIENT_CERT_FILE`); needs `client_key_file`.
    pub client_cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key
    /// (`LIMELIGHT_MQTT_CLIENT_KEY_FILE`).
    pub client_key_file: Option<PathBuf>,
    /// The TLS settings read from the files above.
    #[serde(skip)]
    tls: Option<limelight_shared::input::MqttTls>,
    /// Topic prefix: `<prefix>/status` is `online` or `offline` (retained, the
    /// latter as the last will), `<prefix>/canvases/<id>/state` each canvas's
    /// state as JSON (retained) (`LIMELIGHT_MQTT_PREFIX`).
    pub prefix: String,
    /// Client id at the broker (`LIMELIGHT_MQTT_CLIENT_ID`).
    pub client_id: String,
    /// Take the WebSocket's live-control messages on `<prefix>/command`, answered
    /// on `<prefix>/command/result`; off by default (`LIMELIGHT_MQTT_COMMANDS`).
    pub commands: bool,
    /// The user the command topic acts as, with that user's role
    /// (`LIMELIGHT_MQTT_COMMAND_USER`); needed when commands are on.
    pub command_user: Option<String>,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            tls: None,
            prefix: "limelight".into(),
            client_id: "limelight".into(),
            commands: false,
            command_user: None,
        }
    }
}

impl MqttConfig {
    /// Check the settings and read the TLS files.
    fn check(&mut self) -> Result<(), ConfigError> {
        let bad = |name: &str, e: limelight_shared::values::RangeError| ConfigError::Env {
            name: name.into(),
            message: e.0,
        };
        let files = [
            self.ca_file.clone(),
            self.client_cert_file.clone(),
            self.client_key_file.clone(),
        ];
        if let Some(url) = &self.url {
            let address =
                limelight_shared::input::broker_address(url).map_err(|e| bad("mqtt.url", e))?;
            if address.tls {
                let read = |name: &str, path: &Option<PathBuf>| {
                    path.as_ref()
                        .map(|path| {
                            std::fs::read_to_string(path).map_err(|e| ConfigError::Env {
                                name: name.into(),
                                message: format!("cannot read {}: {e}", path.display()),
                            })
                        })
                        .transpose()
                };
                let tls = limelight_shared::input::MqttTls {
                    ca: read("mqtt.ca_file", &files[0])?,
                    client_cert: read("mqtt.client_cert_file", &files[1])?,
                    client_key: read("mqtt.client_key_file", &files[2])?,
                };
                tls.check().map_err(|e| bad("mqtt.ca_file", e))?;
                self.tls = Some(tls);
            }
        }
        if self.tls.is_none() && files.iter().any(|f| f.is_some()) {
            return Err(ConfigError::Env {
                name: "mqtt.ca_file".into(),
                message: "TLS files need mqtt.url at mqtts://host[:port]".into(),
            });
        }
        limelight_shared::input::check_prefix(&self.prefix).map_err(|e| bad("mqtt.prefix", e))?;
        if self.commands && (self.url.is_none() || self.command_user.is_none()) {
            return Err(ConfigError::Env {
                name: "mqtt.commands".into(),
                message: "needs mqtt.url and mqtt.command_user (the user commands act as)".into(),
            });
        }
        if self.client_id.is_empty() || self.client_id.len() > 256 {
            return Err(ConfigError::Env {
                name: "mqtt.client_id".into(),
                message: "must be 1 to 256 bytes".into(),
            });
        }
        Ok(())
    }
}

/// The venue's place and time zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VenueConfig {
    /// IANA time zone the schedule's times are in, such as `Europe/Paris`
    /// (`LIMELIGHT_VENUE_TIMEZONE`).
    pub timezone: String,
    /// Degrees north, -90 to 90 (`LIMELIGHT_VENUE_LATITUDE`).
    pub latitude: f64,
    /// Degrees east, -180 to 180 (`LIMELIGHT_VENUE_LONGITUDE`).
    pub longitude: f64,
}

impl Default for VenueConfig {
    fn default() -> Self {
        Self {
            timezone: "UTC".into(),
            latitude: 0.0,
            longitude: 0.0,
        }
    }
}

impl VenueConfig {
    /// The venue, or what is wrong with it.
    pub fn venue(&self) -> Result<Site, ConfigError> {
        let bad = |message: String| ConfigError::Env {
            name: "venue".into(),
            message,
        };
        let tz: chrono_tz::Tz = self
            .timezone
            .parse()
            .map_err(|_| bad(format!("unknown time zone {:?}", self.timezone)))?;
        Site::new(tz, self.latitude, self.longitude).map_err(bad)
    }
}

/// sACN output settings shared by every canvas.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SacnConfig {
    /// Local address packets are sent from (`LIMELIGHT_SACN_BIND`).
    pub bind: SocketAddr,
    /// Multicast time-to-live; 1 keeps packets on the local network
    /// (`LIMELIGHT_SACN_MULTICAST_TTL`).
    pub multicast_ttl: u32,
    /// Interface address for multicast; the system's choice when absent
    /// (`LIMELIGHT_SACN_MULTICAST_INTERFACE`).
    pub multicast_interface: Option<Ipv4Addr>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            admin_password: None,
            jwt_secret: None,
            token_ttl_minutes: 12 * 60,
            scenes_dir: PathBuf::from("scenes"),
            seed_demo_venue: true,
            max_body_bytes: 1024 * 1024,
            tus_max_size: 2 << 30,
            upload_ttl_hours: 24,
            http_workers: None,
            node_name: None,
            redis_url: None,
            rate_limit_per_minute: 100,
            roles: std::collections::BTreeMap::new(),
            ws_rate_limit_per_minute: 600,
            login_rate_limit_per_minute: 10,
            http_pin_workers: false,
            // Below the kernel's interrupt threads (50), above everything else.
            frame_priority: 40,
            sacn: SacnConfig::default(),
            venue: VenueConfig::default(),
            mqtt: MqttConfig::default(),
        }
    }
}

impl Default for SacnConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([0, 0, 0, 0], 0)),
            multicast_ttl: 1,
            multicast_interface: None,
        }
    }
}

/// A configuration that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment variable is not valid.
    #[error("{name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Read `file` (if given) and apply the environment `vars`.
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::File {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => Config::default(),
        };
        for (name, value) in vars {
            // The file's name and the log filter are read before the configuration.
            if name.starts_with("LIMELIGHT_")
                && !matches!(name.as_str(), "LIMELIGHT_CONFIG" | "LIMELIGHT_LOG")
            {
                config.apply_env(&name, value)?;
            }
        }
        config.venue.venue()?;
        config.mqtt.check()?;
        if let Some(role) = config.roles.keys().find(|r| r.parse::<Role>().is_err()) {
            return Err(ConfigError::Env {
                name: format!("roles.{role}"),
                message: "not a role: admin, operator, marketing or attendee".into(),
            });
        }
        if let Some(name) = &config.node_name
            && (name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control))
        {
            return Err(ConfigError::Env {
                name: "node_name".into(),
                message: "must be 1 to 64 characters without control characters".into(),
            });
        }
        if config.frame_priority > limelight_engine::MAX_PRIORITY {
            return Err(ConfigError::Env {
                name: "frame_priority".into(),
                message: format!(
                    "must be 0 (normal scheduling) or 1-{}",
                    limelight_engine::MAX_PRIORITY
                ),
            });
        }
        if config.upload_ttl_hours == 0 {
            return Err(ConfigError::Env {
                name: "upload_ttl_hours".into(),
                message: "must be at least 1".into(),
            });
        }
        if config.token_ttl_minutes == 0 {
            return Err(ConfigError::Env {
                name: "token_ttl_minutes".into(),
                message: "must be at least 1".into(),
            });
        }
        Ok(config)
    }

    fn apply_env(&mut self, name: &str, value: String) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.parse().map_err(|e: T::Err| ConfigError::Env {
                name: name.to_owned(),
                message: e.to_string(),
            })
        }
        match name {
            "LIMELIGHT_HTTP_ADDR" => self.http_addr = parse(name, &value)?,
            "LIMELIGHT_DATA_DIR" => self.data_dir = PathBuf::from(value),
            "LIMELIGHT_DATABASE_URL" => self.database_url = Some(value),
            "LIMELIGHT_ADMIN_PASSWORD" => self.admin_password = Some(value.into()),
            "LIMELIGHT_JWT_SECRET" => self.jwt_secret = Some(value.into()),
            "LIMELIGHT_TOKEN_TTL_MINUTES" => self.token_ttl_minutes = parse(name, &value)?,
            "LIMELIGHT_SCENES_DIR" => self.scenes_dir = PathBuf::from(value),
            "LIMELIGHT_SEED_DEMO_VENUE" => self.seed_demo_venue = parse(name, &value)?,
            "LIMELIGHT_MAX_BODY_BYTES" => self.max_body_bytes = parse(name, &value)?,
            "LIMELIGHT_TUS_MAX_SIZE" => self.tus_max_size = parse(name, &value)?,
            "LIMELIGHT_UPLOAD_TTL_HOURS" => self.upload_ttl_hours = parse(name, &value)?,
            "LIMELIGHT_HTTP_WORKERS" => self.http_workers = Some(parse(name, &value)?),
            "LIMELIGHT_NODE_NAME" => self.node_name = Some(value),
            "LIMELIGHT_REDIS_URL" => self.redis_url = Some(value),
            "LIMELIGHT_RATE_LIMIT_PER_MINUTE" => self.rate_limit_per_minute = parse(name, &value)?,
            "LIMELIGHT_WS_RATE_LIMIT_PER_MINUTE" => {
                self.ws_rate_limit_per_minute = parse(name, &value)?
            }
            "LIMELIGHT_LOGIN_RATE_LIMIT_PER_MINUTE" => {
                self.login_rate_limit_per_minute = parse(name, &value)?
            }
            role if role.starts_with("LIMELIGHT_ROLES_")
                && role.ends_with("_RATE_LIMIT_PER_MINUTE") =>
            {
                let role = role
                    .trim_start_matches("LIMELIGHT_ROLES_")
                    .trim_end_matches("_RATE_LIMIT_PER_MINUTE")
                    .to_lowercase();
                self.roles.entry(role).or_default().rate_limit_per_minute =
                    Some(parse(name, &value)?);
            }
            "LIMELIGHT_HTTP_PIN_WORKERS" => self.http_pin_workers = parse(name, &value)?,
            "LIMELIGHT_FRAME_PRIORITY" => self.frame_priority = parse(name, &value)?,
            "LIMELIGHT_VENUE_TIMEZONE" => self.venue.timezone = value,
            "LIMELIGHT_VENUE_LATITUDE" => self.venue.latitude = parse(name, &value)?,
            "LIMELIGHT_VENUE_LONGITUDE" => self.venue.longitude = parse(name, &value)?,
            "LIMELIGHT_MQTT_URL" => self.mqtt.url = Some(value),
            "LIMELIGHT_MQTT_CA_FILE" => self.mqtt.ca_file = Some(value.into()),
            "LIMELIGHT_MQTT_CLIENT_CERT_FILE" => self.mqtt.client_cert_file = Some(value.into()),
            "LIMELIGHT_MQTT_CLIENT_KEY_FILE" => self.mqtt.client_key_file = Some(value.into()),
            "LIMELIGHT_MQTT_PREFIX" => self.mqtt.prefix = value,
            "LIMELIGHT_MQTT_CLIENT_ID" => self.mqtt.client_id = value,
            "LIMELIGHT_MQTT_COMMANDS" => self.mqtt.commands = parse(name, &value)?,
            "LIMELIGHT_MQTT_COMMAND_USER" => self.mqtt.command_user = Some(value),
            "LIMELIGHT_SACN_BIND" => self.sacn.bind = parse(name, &value)?,
            "LIMELIGHT_SACN_MULTICAST_TTL" => self.sacn.multicast_ttl = parse(name, &value)?,
            "LIMELIGHT_SACN_MULTICAST_INTERFACE" => {
                self.sacn.multicast_interface = Some(parse(name, &value)?)
            }
            other => {
                return Err(ConfigError::Env {
                    name: other.to_owned(),
                    message: "unknown setting".into(),
                });
            }
        }
        Ok(())
    }

    /// The rate limits in effect.
    pub fn rates(&self) -> crate::limits::Rates {
        let rest = |role: Role| {
            let own = self
                .roles
                .get(role.as_str())
                .and_then(|r| r.rate_limit_per_minute);
            (role, own.unwrap_or(self.rate_limit_per_minute))
        };
        crate::limits::Rates {
            rest: [
                rest(Role::Admin),
                rest(Role::Operator),
                rest(Role::Marketing),
                rest(Role::Attendee),
            ],
            ws: self.ws_rate_limit_per_minute,
            login_per_user: self.login_rate_limit_per_minute,
            login_per_address: self.login_rate_limit_per_minute.saturating_mul(5),
        }
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("limelight.db").display()))
    }

    /// This node's name: the configured one, or the host's.
    pub fn node_name(&self) -> String {
        self.node_name.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "limelight".into())
        })
    }

    /// The engine's part of the configuration.
    pub fn engine(&self) -> EngineConfig {
        EngineConfig {
            database_url: self.database_url(),
            scenes_dir: Some(self.scenes_dir.clone()),
            seed_demo_venue: self.seed_demo_venue,
            sacn_bind: self.sacn.bind,
            multicast_ttl: self.sacn.multicast_ttl,
            multicast_interface: self.sacn.multicast_interface,
            frame_priority: self.frame_priority,
            // Checked when the configuration was loaded.
            venue: self.venue.venue().unwrap_or(FALLBACK_VENUE),
            clock: std::sync::Arc::new(limelight_engine::clock::MonotonicClock::new()),
            wall_clock: std::sync::Arc::new(limelight_engine::clock::SystemWallClock),
            session_idle: std::time::Duration::from_secs(600),
            content_dir: self.data_dir.join("content"),
            max_upload: self.tus_max_size,
            upload_ttl: std::time::Duration::from_secs(u64::from(self.upload_ttl_hours) * 3600),
            node_name: self.node_name(),
            redis_url: self.redis_url.clone(),
            status_mqtt: self
                .mqtt
                .url
                .clone()
                .map(|broker| limelight_engine::StatusMqtt {
                    broker,
                    tls: self.mqtt.tls.clone(),
                    prefix: self.mqtt.prefix.clone(),
                    client_id: self.mqtt.client_id.clone(),
                    commands: self.mqtt.commands,
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn environment_overrides_defaults() -> Result<(), ConfigError> {
        let c = Config::load(
            None,
            vars(&[
                ("LIMELIGHT_HTTP_ADDR", "127.0.0.1:9000"),
                ("LIMELIGHT_DATA_DIR", "/tmp/ll"),
                ("PATH", "/bin"),
                ("LIMELIGHT_LOG", "debug"),
                ("LIMELIGHT_CONFIG", "limelight.toml"),
            ]),
        )?;
        assert_eq!(c.http_addr.port(), 9000);
        assert_eq!(c.database_url(), "sqlite:///tmp/ll/limelight.db");
        Ok(())
    }

    #[test]
    fn unknown_or_bad_settings_are_refused() {
        assert!(Config::load(None, vars(&[("LIMELIGHT_HTTP_ADRR", "x")])).is_err());
        assert!(Config::load(None, vars(&[("LIMELIGHT_HTTP_ADDR", "nope")])).is_err());
        assert!(Config::load(None, vars(&[("LIMELIGHT_FRAME_PRIORITY", "100")])).is_err());
        assert!(Config::load(None, vars(&[("LIMELIGHT_VENUE_TIMEZONE", "Mars/Olympus")])).is_err());
        assert!(Config::load(None, vars(&[("LIMELIGHT_VENUE_LATITUDE", "91")])).is_err());
        let paris = Config::load(None, vars(&[("LIMELIGHT_VENUE_TIMEZONE", "Europe/Paris")]));
        assert!(paris.is_ok_and(|c| c.engine().venue.tz == chrono_tz::Europe::Paris));
        let normal = Config::load(None, vars(&[("LIMELIGHT_FRAME_PRIORITY", "0")]));
        assert!(normal.is_ok_and(|c| c.frame_priority == 0));
        let dir = std::env::temp_dir().join(format!("ll-config-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("bad.toml");
        let _ = std::fs::write(&file, "http_adr = \"127.0.0.1:1\"\n");
        assert!(Config::load(Some(&file), vec![]).is_err());
        let _ = std::fs::write(
            &file,
            "http_addr = \"127.0.0.1:1\"\n[sacn]\nmulticast_ttl = 0\n",
        );
        let ok = Config::load(Some(&file), vec![]);
        assert!(ok.is_ok_and(|c| c.http_addr.port() == 1 && c.sacn.multicast_ttl == 0));
    }

    #[test]
    fn mqtt_tls_files_are_read_and_checked_at_load() {
        let dir = std::env::temp_dir().join(format!("ll-config-tls-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let ca = dir.join("ca.pem");
        let _ = std::fs::write(&ca, "not pem\n");
        let tls = |url: &str, ca: &Path| {
            Config::load(
                None,
                vars(&[
                    ("LIMELIGHT_MQTT_URL", url),
                    ("LIMELIGHT_MQTT_CA_FILE", &ca.display().to_string()),
                ]),
            )
        };
        let e = tls("mqtts://127.0.0.1", &ca).err().map(|e| e.to_string());
        assert!(e.as_ref().is_some_and(|e| e.contains("PEM")), "{e:?}");
        let e = tls("mqtts://127.0.0.1", &dir.join("missing.pem"))
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_ref().is_some_and(|e| e.contains("cannot read")),
            "{e:?}"
        );
        let e = tls("mqtt://127.0.0.1", &ca).err().map(|e| e.to_string());
        assert!(e.as_ref().is_some_and(|e| e.contains("mqtts://")), "{e:?}");
        let _ = std::fs::write(
            &ca,
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
        );
        let ok = tls("mqtts://127.0.0.1", &ca);
        assert!(ok.is_ok_and(|c| c.engine().status_mqtt.is_some_and(|m| m.tls.is_some())));
    }
}
