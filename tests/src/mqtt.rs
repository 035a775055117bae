//! A real MQTT broker for a test: Debian's `mosquitto` on a loopback port of its
//! own, and `mosquitto_pub` (a client nobody here wrote) to publish to it.

use anyhow::{Context, Result, ensure};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A mosquitto broker on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct Broker {
    port: u16,
    /// The TLS listener's port, then the one that asks clients for a certificate.
    tls_ports: Option<(u16, u16)>,
    config: PathBuf,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

/// A free loopback port.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Broker {
    /// Start a broker on a free loopback port (anonymous clients, no persistence).
    pub fn start() -> Result<Self> {
        Self::start_with(None)
    }

    /// Start a broker with two TLS listeners beside the plain one, its
    /// certificate signed by `pki`'s authority: [`Broker::tls_url`] takes any
    /// client, [`Broker::mutual_tls_url`] only those with a certificate from
    /// that authority.
    pub fn start_tls(pki: &crate::TestPki) -> Result<Self> {
        Self::start_with(Some(pki))
    }

    fn start_with(pki: Option<&crate::TestPki>) -> Result<Self> {
        let port = free_port()?;
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("mosquitto.conf");
        let mut text = format!(
            "per_listener_settings false\nallow_anonymous true\npersistence false\n\
             log_dest stderr\nlistener {port} 127.0.0.1\n"
        );
        let tls_ports = match pki {
            Some(pki) => {
                let file = |name: &str, pem: &str| -> Result<String> {
                    let path = dir.path().join(name);
                    std::fs::write(&path, pem)?;
                    Ok(path.display().to_string())
                };
                let ca = file("ca.pem", &pki.ca)?;
                let cert = file("broker.pem", &pki.server_cert)?;
                let key = file("broker.key", &pki.server_key)?;
                let (tls, mutual) = (free_port()?, free_port()?);
                let listener = format!("cafile {ca}\ncertfile {cert}\nkeyfile {key}\n");
                text.push_str(&format!(
                    "listener {tls} 127.0.0.1\n{listener}\
                     listener {mutual} 127.0.0.1\n{listener}require_certificate true\n"
                ));
                Some((tls, mutual))
            }
            None => None,
        };
        std::fs::write(&config, text)?;
        let mut broker = Self {
            port,
            tls_ports,
            config,
            child: None,
            dir,
        };
        broker.restart()?;
        Ok(broker)
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// `mqtts://127.0.0.1:<port>` of the TLS listener (a broker from
    /// [`Broker::start_tls`]).
    pub fn tls_url(&self) -> Option<String> {
        self.tls_ports
            .map(|(tls, _)| format!("mqtts://127.0.0.1:{tls}"))
    }

    /// `mqtts://127.0.0.1:<port>` of the listener that asks for a client
    /// certificate.
    pub fn mutual_tls_url(&self) -> Option<String> {
        self.tls_ports
            .map(|(_, mutual)| format!("mqtts://127.0.0.1:{mutual}"))
    }

    /// A file in the broker's directory (for certificates a test hands on).
    pub fn write_file(&self, name: &str, text: &str) -> Result<PathBuf> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// Stop the broker (SIGKILL: its clients see the connection drop).
    pub fn stop(&mut self) -> Result<()> {
        crate::daemon::kill(&mut self.child)
    }

    /// Start the broker again on the same port; returns once it takes connections.
    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        // Debian puts the broker in /usr/sbin, which a user's PATH may lack.
        let program = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("mosquitto");
        let child = Command::new(program)
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting mosquitto (Debian's package `mosquitto`)")?;
        self.child = Some(child);
        let ports = [
            Some(self.port),
            self.tls_ports.map(|p| p.0),
            self.tls_ports.map(|p| p.1),
        ];
        let ports: Vec<u16> = ports.into_iter().flatten().collect();
        crate::daemon::wait_listening("mosquitto", &ports)
    }

    /// Publish `payload` on `topic` with `mosquitto_pub` (QoS 0).
    pub fn publish(&self, topic: &str, payload: &[u8]) -> Result<()> {
        self.publish_with(topic, payload, &["-s"])
    }

    /// Publish `payload` as one retained message.
    pub fn publish_retained(&self, topic: &str, payload: &[u8]) -> Result<()> {
        self.publish_with(topic, payload, &["-s", "-r"])
    }

    /// Publish many messages from one `mosquitto_pub` process, one per line of
    /// `lines`, on `topic`.
    pub fn publish_lines(&self, topic: &str, lines: &str) -> Result<()> {
        self.publish_with(topic, lines.as_bytes(), &["-l"])
    }

    /// The first `count` messages on `filter` (retained ones first) as `topic
    /// payload` lines, read with `mosquitto_sub`; fails after `within` seconds.
    pub fn receive(&self, filter: &str, count: u32, within: u32) -> Result<Vec<String>> {
        let out = Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-t",
                filter,
                "-v",
            ])
            .args(["-C", &count.to_string(), "-W", &within.to_string()])
            .stderr(Stdio::piped())
            .output()
            .context("starting mosquitto_sub (Debian's package `mosquitto-clients`)")?;
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        ensure!(
            out.status.success() && lines.len() == count as usize,
            "mosquitto_sub -t {filter}: {} of {count} messages within {within} s ({}): {lines:?}",
            lines.len(),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(lines)
    }

    /// Run `mosquitto_pub` with `args`, `stdin` as its input.
    fn publish_with(&self, topic: &str, stdin: &[u8], args: &[&str]) -> Result<()> {
        use std::io::Write;
        let mut child = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", topic])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting mosquitto_pub (Debian's package `mosquitto-clients`)")?;
        child
            .stdin
            .take()
            .context("mosquitto_pub's stdin")?
            .write_all(stdin)?;
        let out = child.wait_with_output()?;
        ensure!(
            out.status.success(),
            "mosquitto_pub failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    /// Publish `command` on `limelight/command` until an answer comes on
    /// `limelight/command/result`; that answer. The server runs on this thread, so
    /// the listener waits on another and this one only sleeps asynchronously.
    pub async fn command_answer(&self, command: &serde_json::Value) -> Result<serde_json::Value> {
        let port = self.url().rsplit(':').next().unwrap_or_default().to_owned();
        let listener = std::thread::spawn(move || {
            std::process::Command::new("mosquitto_sub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-t",
                    "limelight/command/result",
                ])
                .args(["-C", "1", "-W", "15"])
                .output()
        });
        // Until both Limelight and the listener have subscribed, a command may go
        // unheard or its answer unseen: send it again until one is seen.
        while !listener.is_finished() {
            self.publish("limelight/command", command.to_string().as_bytes())?;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let out = listener
            .join()
            .map_err(|_| anyhow::anyhow!("the listener panicked"))??;
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim()).map_err(|e| anyhow::anyhow!("{e}: {text:?}"))
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
