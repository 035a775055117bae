//! The `limelight` command line, shared by the `limelight` binary and the test
//! harness's server process.
//!
//! - `limelight` (or `limelight serve`): run Limelight.
//! - `limelight check-scenes [DIR]`: check scene files (default `scenes/`), printing
//!   every problem with file, line and field; exits 1 if any.
//! - `limelight openapi`: print the OpenAPI document the server serves.
//!
//! Configuration: `LIMELIGHT_CONFIG` names a TOML file (default `limelight.toml` if it
//! exists); `LIMELIGHT_*` variables override it.

use crate::Server;
use crate::config::Config;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: limelight [serve | check-scenes [DIR] | openapi | --help | --version]";

/// Run the command line with the process's arguments; the exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("check-scenes") => return check_scenes(args.get(1).map_or("scenes", String::as_str)),
        Some("openapi") => {
            say(crate::openapi_json());
            return ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            say(USAGE);
            return ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            say(concat!("limelight ", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("unknown command {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("limelight: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The CLI's own output.
#[expect(clippy::print_stdout, reason = "command-line output")]
fn say(line: &str) {
    println!("{line}");
}

fn check_scenes(dir: &str) -> ExitCode {
    match limelight_engine::load_scene_dir(Path::new(dir)) {
        Ok(scenes) => {
            say(&format!("{} scene files in {dir} are valid", scenes.len()));
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn serve() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIMELIGHT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let file = match std::env::var_os("LIMELIGHT_CONFIG") {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(PathBuf::from("limelight.toml")).filter(|p| p.exists()),
    };
    let config = Config::load(file.as_deref(), std::env::vars()).context("configuration")?;
    actix_web::rt::System::new().block_on(async move {
        let server = Server::start(config).await?;
        if let Some(password) = server.generated_admin_password() {
            say(&format!(
                "Created user \"admin\" with password {password}\n\
                 (shown once; set LIMELIGHT_ADMIN_PASSWORD before the first start to choose it)"
            ));
        }
        say(&format!("Limelight listening on http://{}", server.addr()));
        server.wait().await
    })
}
