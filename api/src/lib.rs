//! Limelight's HTTP/WebSocket shell: it translates requests into calls on the
//! engine's `EngineHandle` and answers with JSON.
//!
//! # Layout
//! - [`cli`]: the `limelight` command line.
//! - [`config`]: the typed configuration (file + `LIMELIGHT_*` environment).
//! - [`auth`]: JWT tokens, the `Auth` extractor and the permission table.
//! - [`error`]: `ApiError`, mapping every failure to status + code + message.
//! - `body`: the one parser of JSON bodies (REST and WebSocket) and its extractor.
//! - `routes/`: one module per resource; handlers are thin.
//! - `ws/`: the operator WebSocket, one session task per connection.
//! - `console`: the operator console's page and files (`api/console/`), built in.
//! - [`metrics`]: the Prometheus recorder and metric names.
//! - `mqtt`: the MQTT command topic, carried out like the WebSocket's live control.
//! - `openapi`: the OpenAPI document generated from the route table, and its
//!   reference page.
//! - `pinning`: HTTP workers on cores of their own, when configured.
//! - `request_id`: the `X-Request-Id` of each request, in its answer, logs and errors.
//! - [`Server`]: starting and stopping the whole thing.

pub mod auth;
mod body;
pub mod cli;
pub mod config;
mod console;
pub mod error;
pub mod limits;
pub mod metrics;
mod mqtt;
mod openapi;
mod pinning;
mod request_id;
mod routes;
mod ws;

pub use routes::{openapi_json, route_table};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServerHandle, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{self, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use auth::Tokens;
use config::Config;
use error::ApiError;
use limelight_engine::{EngineConfig, EngineHandle};
use limelight_shared::error::ErrorCode;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Kernel send buffer of each connection (Linux doubles it, to 256 KiB). Left to
/// itself Linux grows a busy socket's buffer to 4 MiB: thousands of stalled clients
/// could pin gigabytes in the kernel, and a stalled WebSocket would take 4 MiB of
/// stale events before its session noticed and resynchronised it.
const SOCKET_SEND_BUFFER: usize = 128 * 1024;

fn bound_send_buffer(conn: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    if let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>()
        && let Err(e) = socket2::SockRef::from(stream).set_send_buffer_size(SOCKET_SEND_BUFFER)
    {
        tracing::warn!(error = %e, "cannot bound a connection's send buffer");
    }
}

/// A running Limelight: engine, canvases and HTTP server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    engine: EngineHandle,
    http: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    generated_admin_password: Option<String>,
}

impl Server {
    /// Start the engine and the HTTP server. Must run inside an actix system.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let engine_config = config.engine();
        Self::start_with(config, engine_config).await
    }

    /// Start with an engine configuration of the caller's (tests give the engine a
    /// wall clock they can move).
    pub async fn start_with(config: Config, engine_config: EngineConfig) -> anyhow::Result<Self> {
        let prometheus = metrics::install();
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
        let secret = jwt_secret(&config)?;
        let engine = EngineHandle::start(engine_config)
            .await
            .context("cannot start the engine")?;
        let admin_password = config
            .admin_password
            .as_ref()
            .map(|p| p.expose_secret().to_owned());
        let generated_admin_password = engine
            .ensure_admin(admin_password.as_deref())
            .await
            .context("cannot create the first admin")?;
        let tokens = Tokens::new(&secret, config.token_ttl_minutes);
        let limit = config.max_body_bytes;
        if let Some(commands) = engine.take_mqtt_commands() {
            let user = config.mqtt.command_user.clone().unwrap_or_default();
            engine
                .principal_named(&user)
                .await
                .context("the MQTT command user")?;
            actix_web::rt::spawn(mqtt::serve(engine.clone(), commands, user));
        }

        let upkeep = prometheus.clone();
        actix_web::rt::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });

        let app_engine = web::Data::new(engine.clone());
        let app_tokens = web::Data::new(tokens);
        let app_prometheus = web::Data::new(prometheus);
        let redis = engine.redis();
        if redis.is_some() {
            tracing::info!("Redis set: rate limits and fan-out hold across every node");
        }
        let app_limits = web::Data::new(limits::Limits::new(&config.rates(), redis));
        let pinning = config
            .http_pin_workers
            .then(pinning::Pinning::new)
            .transpose()
            .context("cannot read the process's cores")?
            .map(std::sync::Arc::new);
        // Called once on each worker's thread as it starts.
        let mut http = HttpServer::new(move || {
            if let Some(pinning) = &pinning {
                pinning.pin_current_thread();
            }
            App::new()
                .app_data(app_engine.clone())
                .app_data(app_tokens.clone())
                .app_data(app_prometheus.clone())
                .app_data(app_limits.clone())
                .app_data(web::PayloadConfig::new(limit))
                .app_data(web::PathConfig::default().error_handler(|e, _| {
                    ApiError::new(ErrorCode::NotFound, format!("no such resource: {e}")).into()
                }))
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::new(ErrorCode::ValidationFailed, e.to_string()).into()
                }))
                .configure(routes::configure)
                .configure(console::configure)
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(ApiError::new(ErrorCode::NotFound, "no such route"))
                }))
                .wrap(ErrorHandlers::new().default_handler(json_errors))
                // On every answer; a page sets its own policy first.
                .wrap(
                    middleware::DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::REFERRER_POLICY, "no-referrer"))
                        .add((
                            header::CONTENT_SECURITY_POLICY,
                            "default-src 'none'; frame-ancestors 'none'",
                        )),
                )
                .wrap_fn(|req, srv| {
                    use actix_web::dev::Service;
                    use tracing::Instrument;
                    let started = Instant::now();
                    let method = req.method().to_string();
                    let id = request_id::of(req.headers());
                    let span = tracing::info_span!("request", id = %id, method = %method, path = %req.path());
                    // Each request runs to the end in its own task: a client that
                    // hangs up does not cut a command (or a database query) short.
                    let call = actix_web::rt::spawn(
                        request_id::scope(id.clone(), srv.call(req)).instrument(span.clone()),
                    );
                    async move {
                        let mut res = call.await.map_err(|e| {
                            span.in_scope(|| tracing::error!(error = %e, "request task failed"));
                            actix_web::Error::from(ApiError::new(
                                ErrorCode::Internal,
                                "internal error; see the server log",
                            ))
                        })??;
                        if let Some(value) = request_id::header_value(&id) {
                            res.headers_mut().insert(request_id::HEADER, value);
                        }
                        let route = res
                            .request()
                            .match_pattern()
                            .unwrap_or_else(|| "unmatched".to_owned());
                        ::metrics::histogram!(
                            "limelight_http_request_duration_seconds",
                            "method" => method,
                            "route" => route,
                            "status" => res.status().as_u16().to_string()
                        )
                        .record(started.elapsed().as_secs_f64());
                        Ok(res)
                    }
                })
        })
        .on_connect(bound_send_buffer)
        // A WebSocket event is one small write: Nagle's algorithm would hold it
        // back while the connection's last write waits for the client's
        // (possibly delayed) acknowledgement.
        .tcp_nodelay(true)
        .shutdown_timeout(5)
        .bind(config.http_addr)
        .with_context(|| format!("cannot listen on {}", config.http_addr))?;
        if let Some(workers) = config.http_workers {
            http = http.workers(workers.max(1));
        }
        let addr = http
            .addrs()
            .first()
            .copied()
            .context("the HTTP server has no address")?;
        let http = http.run();
        let handle = http.handle();
        let task = actix_web::rt::spawn(http);
        engine.set_http_addr(addr);
        if engine.backend() == "sqlite" {
            tracing::info!(
                "a single node: SQLite is this node's alone; nodes that share the output \
                 and take over from each other need PostgreSQL"
            );
        }
        tracing::info!(%addr, database = engine.backend(), "Limelight is up");
        Ok(Self {
            addr,
            engine,
            http: handle,
            task,
            generated_admin_password,
        })
    }

    /// Where the HTTP server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The engine.
    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// The first admin's password, when it was generated at this start.
    pub fn generated_admin_password(&self) -> Option<&str> {
        self.generated_admin_password.as_deref()
    }

    /// Serve until the HTTP server stops (SIGINT/SIGTERM), then stop every canvas
    /// cleanly (Stream_Terminated on every universe).
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.task.await;
        self.engine.shutdown().await;
        result
            .context("HTTP server task failed")?
            .context("HTTP server failed")
    }

    /// Stop gracefully: HTTP first, then the canvases.
    pub async fn stop(self) {
        self.http.stop(true).await;
        let _ = self.task.await;
        self.engine.shutdown().await;
    }
}

/// The token-signing secret: configured, or generated once and kept in the data
/// directory so tokens survive a restart.
fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        anyhow::ensure!(
            secret.expose_secret().len() >= 32,
            "the JWT secret must be at least 32 bytes"
        );
        return Ok(secret.expose_secret().as_bytes().to_vec());
    }
    let path = config.data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read(&path)
        && existing.len() >= 32
    {
        return Ok(existing);
    }
    let mut secret = vec![0u8; 48];
    rand::fill(secret.as_mut_slice());
    write_private(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(bytes)
}

/// Turn any error response that is not already our JSON (actix's own 404, 405, 413,
/// …) into `{code, message}`.
fn json_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(res.status().is_client_error() || res.status().is_server_error()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, message) = match status.as_u16() {
        401 => (
            ErrorCode::Unauthorized,
            "authentication is needed".to_owned(),
        ),
        403 => (ErrorCode::Forbidden, "not allowed".to_owned()),
        404 => (ErrorCode::NotFound, "no such route".to_owned()),
        405 => (
            ErrorCode::MethodNotAllowed,
            "method not allowed here".to_owned(),
        ),
        413 => (
            ErrorCode::PayloadTooLarge,
            "body is over the size limit".to_owned(),
        ),
        415 => (
            ErrorCode::UnsupportedMediaType,
            "unsupported content type".to_owned(),
        ),
        s if s >= 500 => (
            ErrorCode::Internal,
            "internal error; see the server log".to_owned(),
        ),
        _ => (ErrorCode::InvalidJson, format!("bad request ({status})")),
    };
    let body = ApiError::new(code, message).body();
    let (req, _) = res.into_parts();
    let response: HttpResponse<BoxBody> = HttpResponse::build(status).json(body);
    let res = ServiceResponse::new(req, response).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
