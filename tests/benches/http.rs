//! REST shell benchmark: requests per second and latency at 256 connections for
//! the health check, two authenticated reads and bookings, in one run against one
//! real server.
//!
//! A real server runs in this process (SQLite in a temporary directory, or
//! PostgreSQL when `LIMELIGHT_TEST_POSTGRES` is set). `wrk` (Debian's package)
//! drives it over loopback, one after another, for `--seconds` each:
//!
//! - `GET /healthz`: no authentication, the shell's own floor;
//! - `GET /api/v1/canvases` and `GET /api/v1/state` with an operator's token;
//! - `POST /api/v1/sessions/{id}/bookings` of one place, with a hundred attendees'
//!   tokens in turn, on a session large enough never to sell out.
//!
//! Every booking wrk saw answered 201 must be stored, and none may be refused.
//!
//! ```text
//! cargo bench -p limelight-tests --bench http -- [--seconds 6] [--connections 256]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use limelight_tests::TestApp;
use serde_json::json;
use std::path::Path;

const ATTENDEES: usize = 100;

struct Args {
    seconds: u32,
    connections: u32,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            seconds: 6,
            connections: 256,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--seconds" => args.seconds = it.next().context("--seconds N")?.parse()?,
                "--connections" => {
                    args.connections = it.next().context("--connections N")?.parse()?;
                }
                // cargo bench passes --bench.
                "--bench" => {}
                other => bail!("unknown argument {other}"),
            }
        }
        Ok(args)
    }
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    actix_rt::System::new().block_on(run(args))
}

/// What wrk measured for one target.
struct Figures {
    name: &'static str,
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Answers that were not 2xx or 3xx.
    refused: u64,
    /// Connections that failed to connect, read, write, or timed out.
    socket_errors: u64,
}

/// wrk's report, one line a script can parse: requests, µs, p50 µs, p99 µs, non-2xx,
/// socket errors.
const REPORT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("LIMELIGHT %d %d %d %d %d %d\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"#;

/// Run wrk with `script` (which ends with [`REPORT`]) against `url`.
async fn wrk(
    name: &'static str,
    args: &Args,
    url: &str,
    script: &str,
    dir: &Path,
) -> Result<Figures> {
    let path = dir.join(format!(
        "{}.lua",
        name.replace(|c: char| !c.is_alphanumeric(), "_")
    ));
    std::fs::write(&path, format!("{script}\n{REPORT}"))?;
    let out = tokio::process::Command::new("wrk")
        .args(["-t1", "--timeout", "10s"])
        .arg(format!("-c{}", args.connections))
        .arg(format!("-d{}s", args.seconds))
        .arg("-s")
        .arg(&path)
        .arg(url)
        .output()
        .await
        .context("cannot run wrk (apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.success(), "wrk failed: {stdout}");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("LIMELIGHT "))
        .with_context(|| format!("no report from wrk: {stdout}"))?;
    let n: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [requests, micros, p50, p99, refused, socket_errors] = n[..] else {
        bail!("bad report from wrk: {line}");
    };
    Ok(Figures {
        name,
        requests,
        per_second: requests as f64 / (micros as f64 / 1e6),
        p50_ms: p50 as f64 / 1000.0,
        p99_ms: p99 as f64 / 1000.0,
        refused,
        socket_errors,
    })
}

fn get_with(token: &str) -> String {
    format!(r#"wrk.headers["Authorization"] = "Bearer {token}""#)
}

async fn run(args: Args) -> Result<()> {
    let app = TestApp::spawn().await?;
    let backend = app.server.engine().backend();
    let admin = app.admin().await?;
    let operator = app.user("bench-operator", "operator").await?;
    let tokens = app.attendees("bench-fan", ATTENDEES).await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": 100_000}))
        .await?;
    let dir = tempfile::tempdir()?;

    let health = wrk("GET /healthz", &args, &app.url("/healthz"), "", dir.path()).await?;
    let canvases = wrk(
        "GET /api/v1/canvases",
        &args,
        &app.url("/api/v1/canvases"),
        &get_with(&operator),
        dir.path(),
    )
    .await?;
    let state = wrk(
        "GET /api/v1/state",
        &args,
        &app.url("/api/v1/state"),
        &get_with(&operator),
        dir.path(),
    )
    .await?;
    let quoted: Vec<String> = tokens.iter().map(|t| format!("\"Bearer {t}\"")).collect();
    let book = format!(
        r#"
local tokens = {{ {} }}
local n = 0
request = function()
  n = n + 1
  local headers = {{}}
  headers["Authorization"] = tokens[(n % #tokens) + 1]
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/sessions/{session}/bookings", headers, '{{"quantity": 1}}')
end
"#,
        quoted.join(", ")
    );
    let bookings = wrk(
        "POST /sessions/{id}/bookings",
        &args,
        &app.url("/"),
        &book,
        dir.path(),
    )
    .await?;
    ensure!(
        bookings.refused == 0,
        "{} bookings were refused",
        bookings.refused
    );
    let stored = app.stored_bookings(&admin, session).await?;
    // wrk stops counting at its deadline; requests it cut short may still land.
    ensure!(
        stored >= bookings.requests,
        "{stored} bookings stored, {} answered 201",
        bookings.requests
    );

    println!(
        "\nREST benchmark on {backend}: wrk -t1 -c{} -d{}s per row, one server, loopback\n",
        args.connections, args.seconds
    );
    println!("| {backend} | req/s | p50 | p99 | req/s vs /healthz | p99 vs /healthz | errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for f in [&health, &canvases, &state, &bookings] {
        println!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.0} % | {:.1}x | {} |",
            f.name,
            f.per_second,
            f.p50_ms,
            f.p99_ms,
            100.0 * f.per_second / health.per_second,
            f.p99_ms / health.p99_ms,
            f.refused + f.socket_errors
        );
    }
    println!(
        "\n{stored} bookings stored; wrk counted {} answered",
        bookings.requests
    );
    Ok(())
}
