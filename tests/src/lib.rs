//! Helpers for end-to-end tests: a real Limelight on port 0 with a fresh database,
//! an HTTP client, and a UDP socket that decodes the E1.31 it receives.
//!
//! The database is SQLite in a temporary directory, or a fresh PostgreSQL database
//! when `LIMELIGHT_TEST_POSTGRES` holds a server URL (CI runs the suite both ways).

pub mod process;

use anyhow::{Context, Result, anyhow, bail};
use limelight_api::Server;
use limelight_api::config::Config;
use limelight_engine::EngineConfig;
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use sacn::packet::{AcnRootLayerProtocol, E131RootLayerData};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// The first admin's password in tests.
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// The token-signing secret in tests.
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

/// Where a test's data lives; kept for a restart on the same database.
#[derive(Debug)]
pub struct TestEnv {
    /// Temporary directory (data dir, SQLite file).
    pub dir: tempfile::TempDir,
    /// Database URL.
    pub database_url: String,
}

impl TestEnv {
    /// A fresh database of the backend under test.
    pub async fn new() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let database_url = match std::env::var("LIMELIGHT_TEST_POSTGRES") {
            Ok(server) => fresh_postgres(&server).await?,
            Err(_) => format!("sqlite://{}", dir.path().join("test.db").display()),
        };
        Ok(Self { dir, database_url })
    }

    /// The configuration of a test server on this database.
    pub fn config(&self) -> Config {
        let mut config = Config::load(None, Vec::new()).unwrap_or_default();
        config.http_addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.data_dir = self.dir.path().to_owned();
        config.database_url = Some(self.database_url.clone());
        config.admin_password = Some(ADMIN_PASSWORD.to_owned().into());
        config.jwt_secret = Some(JWT_SECRET.to_owned().into());
        config.scenes_dir = scenes_dir();
        config.seed_demo_venue = false;
        config.http_workers = Some(2);
        // Loopback only, whatever a canvas is configured with.
        config.sacn.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        config.sacn.multicast_interface = Some(std::net::Ipv4Addr::LOCALHOST);
        config.sacn.multicast_ttl = 0;
        config
    }
}

/// The repository's `scenes/`.
pub fn scenes_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenes")
}

async fn fresh_postgres(server: &str) -> Result<String> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let server = server.trim_end_matches('/');
    let name = format!("ll_test_{}", unique());
    let mut conn = AsyncPgConnection::establish(&format!("{server}/postgres"))
        .await
        .context("cannot reach the test PostgreSQL")?;
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok(format!("{server}/{name}"))
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A running server in this process and a client for it (the client's calls are
/// reached through `Deref`).
#[derive(Debug)]
pub struct TestApp {
    /// The server.
    pub server: Server,
    /// A client for it.
    pub client: Client,
    /// The environment it runs in.
    pub env: TestEnv,
}

impl std::ops::Deref for TestApp {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// An HTTP client for one Limelight server, with the calls tests make.
#[derive(Debug, Clone)]
pub struct Client {
    /// Base URL, `http://127.0.0.1:port`.
    pub base: String,
    /// HTTP client.
    pub http: reqwest::Client,
}

impl TestApp {
    /// A server on a fresh database.
    pub async fn spawn() -> Result<Self> {
        Self::spawn_in(TestEnv::new().await?).await
    }

    /// A server on an existing environment (e.g. to restart on the same database).
    pub async fn spawn_in(env: TestEnv) -> Result<Self> {
        let config = env.config();
        Self::spawn_with(env, config).await
    }

    /// A server on `env` with a configuration derived from `env.config()`.
    pub async fn spawn_with(env: TestEnv, config: Config) -> Result<Self> {
        let engine = config.engine();
        Self::spawn_engine(env, config, engine).await
    }

    /// A server whose engine has its own configuration (a wall clock a test moves).
    pub async fn spawn_engine(env: TestEnv, config: Config, engine: EngineConfig) -> Result<Self> {
        let server = Server::start_with(config, engine).await?;
        let client = Client::new(server.addr());
        Ok(Self {
            server,
            client,
            env,
        })
    }

    /// Stop the server; the environment is kept for another start.
    pub async fn stop(self) -> TestEnv {
        self.server.stop().await;
        self.env
    }
}

impl Client {
    /// A client for the server listening on `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    /// A URL on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Log in; the token.
    pub async fn login(&self, username: &str, password: &str) -> Result<String> {
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await?;
        if status != 200 {
            bail!("login of {username} failed: {status} {body}");
        }
        body["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no token in {body}"))
    }

    /// The admin's token.
    pub async fn admin(&self) -> Result<String> {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Create a user with `role` and log in as it; the token.
    pub async fn user(&self, name: &str, role: &str) -> Result<String> {
        let admin = self.admin().await?;
        let password = format!("{name}-password");
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/users",
                Some(&admin),
                Some(json!({"username": name, "password": password, "role": role})),
            )
            .await?;
        if status != 201 {
            bail!("creating {name} failed: {status} {body}");
        }
        self.login(name, &password).await
    }

    /// Sign up as an attendee; the token.
    pub async fn attendee(&self, name: &str) -> Result<String> {
        let body = json!({"username": name, "password": format!("{name}-password")});
        let (status, answer) = self
            .call("POST", "/api/v1/auth/signup", None, Some(body))
            .await?;
        if status != 201 || answer["role"] != "attendee" {
            bail!("signing up {name} failed: {status} {answer}");
        }
        answer["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no token in {answer}"))
    }

    /// A session's availability, as `token` sees it.
    pub async fn availability(&self, token: &str, session: i64) -> Result<Value> {
        self.get(token, &format!("/api/v1/sessions/{session}/availability"))
            .await
    }

    /// GET `path` as `token`: the body of a 200 answer; any other is an error.
    pub async fn get(&self, token: &str, path: &str) -> Result<Value> {
        let (status, body) = self.call("GET", path, Some(token), None).await?;
        if status != 200 {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }

    /// How many holds and bookings a session has stored (a staff `token`).
    pub async fn stored_bookings(&self, token: &str, session: i64) -> Result<u64> {
        let page = self
            .get(
                token,
                &format!("/api/v1/sessions/{session}/bookings?limit=1"),
            )
            .await?;
        page["total"]
            .as_u64()
            .ok_or_else(|| anyhow!("no booking total in {page}"))
    }

    /// `n` attendees named `{prefix}0`, `{prefix}1`, ...; their tokens.
    pub async fn attendees(&self, prefix: &str, n: usize) -> Result<Vec<String>> {
        let mut tokens = Vec::with_capacity(n);
        for i in 0..n {
            tokens.push(self.attendee(&format!("{prefix}{i}")).await?);
        }
        Ok(tokens)
    }

    /// A venue with an active event holding one session described by `session`
    /// (title and times are filled in); the session's id.
    pub async fn bookable_session(&self, token: &str, session: Value) -> Result<i64> {
        let n = self
            .created(
                "/api/v1/venues",
                token,
                json!({
                    "name": format!("Venue {}", uuid_like()), "timezone": "Europe/Paris"
                }),
            )
            .await?;
        let event = self
            .created(
                "/api/v1/events",
                token,
                json!({
                    "venue": n, "name": "Gala", "type": "show", "status": "active",
                    "starts_at": "2030-06-01T18:00:00Z", "ends_at": "2030-06-01T23:00:00Z"
                }),
            )
            .await?;
        let mut spec = json!({
            "title": "Main hall", "starts_at": "2030-06-01T19:00:00Z",
            "ends_at": "2030-06-01T21:00:00Z"
        });
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), session.as_object()) {
            spec.extend(extra.clone());
        }
        self.created(&format!("/api/v1/events/{event}/sessions"), token, spec)
            .await
    }

    /// POST a document that must be created (201); its id.
    pub async fn created(&self, path: &str, token: &str, body: Value) -> Result<i64> {
        let (status, answer) = self.call("POST", path, Some(token), Some(body)).await?;
        if status != 201 {
            bail!("POST {path}: {status} {answer}");
        }
        answer["id"]
            .as_i64()
            .ok_or_else(|| anyhow!("no id in {answer}"))
    }

    /// Send a request with an `Idempotency-Key`.
    pub async fn call_keyed(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
        key: &str,
    ) -> Result<(u16, Value)> {
        let mut req = self
            .request(method, path, Some(token))?
            .header("idempotency-key", key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::send(req).await
    }

    /// Send a request with an optional bearer token and JSON body; status and JSON
    /// body (`null` when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut req = self.request(method, path, token)?;
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::send(req).await
    }

    /// Send a raw body with a content type.
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Value)> {
        let req = self
            .request(method, path, token)?
            .header("content-type", content_type)
            .body(body);
        Self::send(req).await
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> Result<reqwest::RequestBuilder> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let req = self.http.request(method, self.url(path));
        Ok(match token {
            Some(token) => req.bearer_auth(token),
            None => req,
        })
    }

    async fn send(req: reqwest::RequestBuilder) -> Result<(u16, Value)> {
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, value))
    }

    /// A header of an answer, as text.
    pub fn header(res: &reqwest::Response, name: &str) -> Option<String> {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Create a canvas sending unicast to `dest`; its id.
    pub async fn canvas(
        &self,
        token: &str,
        name: &str,
        pixels: u32,
        fps: u32,
        output: Value,
    ) -> Result<i64> {
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/canvases",
                Some(token),
                Some(json!({"name": name, "pixels": pixels, "fps": fps, "output": output})),
            )
            .await?;
        if status != 201 {
            bail!("creating canvas {name} failed: {status} {body}");
        }
        body["id"]
            .as_i64()
            .ok_or_else(|| anyhow!("no id in {body}"))
    }

    /// The Prometheus text at `/metrics`.
    pub async fn metrics(&self) -> Result<String> {
        Ok(self
            .http
            .get(self.url("/metrics"))
            .send()
            .await?
            .text()
            .await?)
    }

    /// Create a 10-pixel canvas on universe 1 at 10 fps whose packets go to the
    /// discard port (for tests that never look at its output); its id.
    pub async fn idle_canvas(&self, token: &str, name: &str) -> Result<i64> {
        let output = json!({"universe": 1, "destinations": ["127.0.0.1:9"]});
        self.canvas(token, name, 10, 10, output).await
    }

    /// Create a canvas on universe 1 sending unicast to `rx`; its id.
    pub async fn canvas_to(
        &self,
        token: &str,
        name: &str,
        pixels: u32,
        fps: u32,
        rx: &Receiver,
    ) -> Result<i64> {
        let output = json!({"universe": 1, "destinations": [rx.dest()?]});
        self.canvas(token, name, pixels, fps, output).await
    }

    /// Send a request that must be refused with `status` and error `code`, with a
    /// message that says why.
    pub async fn refused(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
        status: u16,
        code: &str,
    ) -> Result<()> {
        let (got, answer) = self.call(method, path, Some(token), body.clone()).await?;
        let message = answer["message"].as_str().unwrap_or_default();
        if got != status || answer["code"] != code || message.is_empty() {
            bail!("{method} {path} {body:?}: expected {status} {code}, got {got} {answer}");
        }
        Ok(())
    }

    /// The live state of a canvas.
    pub async fn canvas_state(&self, token: &str, canvas: i64) -> Result<Value> {
        self.get(token, &format!("/api/v1/canvases/{canvas}/state"))
            .await
    }

    /// Put a scene on a canvas (no fade); status and body.
    pub async fn trigger(&self, token: &str, canvas: i64, scene: &str) -> Result<(u16, Value)> {
        let path = format!("/api/v1/canvases/{canvas}/scene");
        self.call("POST", &path, Some(token), Some(json!({"scene": scene})))
            .await
    }

    /// Create a solid-colour scene.
    pub async fn solid_scene(&self, token: &str, name: &str, color: &str) -> Result<()> {
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/scenes",
                Some(token),
                Some(json!({"name": name, "layers": [{"effect": "solid", "color": color}]})),
            )
            .await?;
        if status != 201 {
            bail!("creating scene {name} failed: {status} {body}");
        }
        Ok(())
    }
}

/// One decoded E1.31 data packet and when it arrived.
#[derive(Debug, Clone)]
pub struct DataPacket {
    /// Arrival time.
    pub at: Instant,
    /// Arrival time on the wall clock (for schedules, which keep civil time).
    pub wall: std::time::SystemTime,
    /// Universe.
    pub universe: u16,
    /// Priority.
    pub priority: u8,
    /// Sequence number.
    pub sequence: u8,
    /// Stream_Terminated bit.
    pub terminated: bool,
    /// Sync address.
    pub sync_address: u16,
    /// Source name.
    pub source_name: String,
    /// DMX slots after the start code.
    pub slots: Vec<u8>,
}

/// What arrived on a receiver socket.
#[derive(Debug, Clone)]
pub enum Packet {
    /// A data packet.
    Data(DataPacket),
    /// A sync packet for this address.
    Sync(u16),
}

/// A UDP socket on loopback that decodes E1.31 (a stand-in for a pixel controller).
#[derive(Debug)]
pub struct Receiver {
    socket: UdpSocket,
    buf: Vec<u8>,
}

/// A short string unlikely to repeat within a test run.
pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{nanos:x}{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Receive one datagram into `buf` from a socket with `SO_TIMESTAMPNS` on: its
/// length and when the kernel received it, so the receiving thread's own
/// scheduling does not count. Without a stamp, the time it was read.
pub fn recv_stamped(socket: &impl AsRawFd, buf: &mut [u8]) -> std::io::Result<(usize, SystemTime)> {
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let mut cmsg = nix::cmsg_space!(nix::sys::time::TimeSpec);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )?;
    let mut at = SystemTime::now();
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmTimestampns(ts) = c {
            let secs = u64::try_from(ts.tv_sec()).unwrap_or_default();
            let nanos = u32::try_from(ts.tv_nsec()).unwrap_or_default();
            at = SystemTime::UNIX_EPOCH + Duration::new(secs, nanos);
        }
    }
    Ok((msg.bytes, at))
}

impl Receiver {
    /// Bind an ephemeral port on 127.0.0.1.
    pub async fn bind() -> Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)?;
        Ok(Self {
            socket,
            buf: vec![0; 2048],
        })
    }

    /// `ip:port` to put in a canvas's destinations.
    pub fn dest(&self) -> Result<String> {
        Ok(self.socket.local_addr()?.to_string())
    }

    /// The next packet, decoded.
    pub async fn next(&mut self, within: Duration) -> Result<Packet> {
        let Self { socket, buf } = self;
        let (n, wall) = tokio::time::timeout(
            within,
            socket.async_io(Interest::READABLE, || recv_stamped(socket, buf)),
        )
        .await
        .context("no sACN packet arrived in time")??;
        // Arrival as the kernel stamped it, so the test's own scheduling does not count.
        let at = Instant::now()
            .checked_sub(SystemTime::now().duration_since(wall).unwrap_or_default())
            .unwrap_or_else(Instant::now);
        let parsed =
            AcnRootLayerProtocol::parse(&self.buf[..n]).map_err(|e| anyhow!("not E1.31: {e}"))?;
        match parsed.pdu.data {
            E131RootLayerData::DataPacket(d) => Ok(Packet::Data(DataPacket {
                at,
                wall,
                universe: d.universe,
                priority: d.priority,
                sequence: d.sequence_number,
                terminated: d.stream_terminated,
                sync_address: d.synchronization_address,
                source_name: d.source_name.to_string(),
                slots: d.data.property_values.get(1..).unwrap_or(&[]).to_vec(),
            })),
            E131RootLayerData::SynchronizationPacket(s) => {
                Ok(Packet::Sync(s.synchronization_address))
            }
            E131RootLayerData::UniverseDiscoveryPacket(_) => bail!("unexpected discovery packet"),
        }
    }

    /// The next data packet (sync packets are passed over).
    pub async fn next_data(&mut self, within: Duration) -> Result<DataPacket> {
        loop {
            if let Packet::Data(d) = self.next(within).await? {
                return Ok(d);
            }
        }
    }

    /// Data packets until one satisfies `pred`; that packet. Fails after `within`.
    pub async fn until(
        &mut self,
        within: Duration,
        pred: impl Fn(&DataPacket) -> bool,
    ) -> Result<DataPacket> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("no matching sACN packet within {within:?}");
            }
            let p = self.next_data(left).await?;
            if pred(&p) {
                return Ok(p);
            }
        }
    }
}

/// A console's WebSocket.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open a console WebSocket with `token`.
pub async fn connect(app: &Client, token: &str) -> Result<Ws> {
    let base = app.base.trim_start_matches("http://");
    let url = format!("ws://{base}/api/v1/ws?token={token}");
    Ok(tokio_tungstenite::connect_async(url).await?.0)
}

/// A WebSocket whose owner stops reading: a tiny receive buffer, so the server's
/// writes back up after a few kilobytes.
pub async fn connect_stalled(app: &Client, token: &str) -> Result<Ws> {
    let base = app.base.trim_start_matches("http://");
    let addr: SocketAddr = base.parse()?;
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_recv_buffer_size(4096)?;
    socket.connect(&addr.into())?;
    socket.set_nonblocking(true)?;
    let stream = tokio::net::TcpStream::from_std(socket.into())?;
    let url = format!("ws://{base}/api/v1/ws?token={token}");
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    Ok(tokio_tungstenite::client_async(url, stream).await?.0)
}

/// Give a socket from [`connect_stalled`] a full-size receive buffer again, so
/// that it can catch up at loopback speed once it reads.
pub fn resume(ws: &Ws) -> Result<()> {
    if let tokio_tungstenite::MaybeTlsStream::Plain(stream) = ws.get_ref() {
        socket2::SockRef::from(stream).set_recv_buffer_size(1 << 20)?;
    }
    Ok(())
}

/// The next JSON message of type `kind`, passing over others.
pub async fn next_of(ws: &mut Ws, kind: &str) -> Result<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    // One deadline for the whole wait: the messages passed over (pings among them)
    // do not extend it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .with_context(|| format!("no {kind} message in time"))?
            .ok_or_else(|| anyhow!("socket closed"))??;
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text)?;
            if v["type"] == kind {
                return Ok(v);
            }
        }
    }
}
