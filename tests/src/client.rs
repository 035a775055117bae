//! An HTTP client for one Limelight server, with the calls tests make.

use crate::*;
use anyhow::{Result, anyhow, bail, ensure};
use serde_json::{Value, json};
use std::net::SocketAddr;

/// An HTTP client for one Limelight server, with the calls tests make.
#[derive(Debug, Clone)]
pub struct Client {
    /// Base URL, `http://127.0.0.1:port`.
    pub base: String,
    /// HTTP client.
    pub http: reqwest::Client,
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

    /// The changes the schedule made, from the audit log, newest first.
    pub async fn scheduled_changes(&self, token: &str) -> Result<Vec<Value>> {
        let log = self.get(token, "/api/v1/audit?limit=500").await?;
        Ok(log["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["action"] == "schedule_change" && e["username"] == "(schedule)")
            .cloned()
            .collect())
    }

    /// Have the schedule take up an entry running now on a canvas of its own, and
    /// wait until `console` hears of it. The schedule makes its changes one at a
    /// time and in order, so every change it had queued before this one has been
    /// made, and logged, by then. The new canvas's id.
    pub async fn schedule_barrier(&self, token: &str, console: &mut Ws) -> Result<i64> {
        // On the last universe, clear of the canvases tests make.
        let output = json!({"universe": 63999, "destinations": ["127.0.0.1:9"]});
        let canvas = self.canvas(token, "Barrier", 10, 10, output).await?;
        self.solid_scene(token, "Barrier", "#010203").await?;
        let start = chrono::Utc::now() - chrono::Duration::minutes(1);
        let entry = json!({
            "name": "Barrier", "targets": [canvas], "priority": 1,
            "play": {"scene": "Barrier"},
            "start": {"date": start.format("%Y-%m-%d").to_string(),
                      "time": start.format("%H:%M:%S").to_string()},
            "end": {"duration_s": 3600},
            "stop": {"mode": "cut"}
        });
        let (status, body) = self
            .call("POST", "/api/v1/schedule", Some(token), Some(entry))
            .await?;
        ensure!(status == 201, "{status} {body}");
        loop {
            let heard = next_of(console, "schedule_change").await?;
            if heard["change"]["canvas"] == canvas {
                return Ok(canvas);
            }
        }
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

    /// Input `input`'s state once `pred` holds for it; fails after `within`.
    pub async fn input_state_when(
        &self,
        token: &str,
        input: i64,
        within: std::time::Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        self.get_when(
            token,
            &format!("/api/v1/inputs/{input}/state"),
            within,
            pred,
        )
        .await
    }

    /// `GET path` once `pred` holds of the answer (polled every 20 ms; fails
    /// after `within`).
    pub async fn get_when(
        &self,
        token: &str,
        path: &str,
        within: std::time::Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let answer = self.get(token, path).await?;
            if pred(&answer) {
                return Ok(answer);
            }
            if std::time::Instant::now() > deadline {
                bail!("{path} never matched within {within:?}: {answer}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
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
