//! What the helpers that run a server of another project (mosquitto,
//! redis-server) share: stopping it, and waiting until it listens.

use anyhow::{Result, bail};
use std::net::{SocketAddr, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

/// Stop `child`, if it runs, with SIGKILL (its clients see the connection drop).
pub(crate) fn kill(child: &mut Option<Child>) -> Result<()> {
    if let Some(mut child) = child.take() {
        child.kill()?;
        child.wait()?;
    }
    Ok(())
}

/// Wait until `what` takes connections on each of `ports` of 127.0.0.1; fails
/// after 10 s.
pub(crate) fn wait_listening(what: &str, ports: &[u16]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    for port in ports {
        let addr = SocketAddr::from(([127, 0, 0, 1], *port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                bail!("{what} did not listen on {addr}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(())
}
