//! The `limelight` binary: see [`limelight_api::cli`].

fn main() -> std::process::ExitCode {
    limelight_api::cli::main()
}
