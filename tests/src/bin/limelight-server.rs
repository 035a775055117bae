//! The `limelight` command line, built inside the test package so that end-to-end
//! tests can run Limelight as a separate process (two servers on one database, or a
//! server killed with SIGKILL) from `CARGO_BIN_EXE_limelight-server`.

fn main() -> std::process::ExitCode {
    limelight_api::cli::main()
}
