//! Console WebSockets: connect, stall, resume, and wait for a kind of message.

use crate::*;
use anyhow::{Context, Result, anyhow};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

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
    next_where(ws, kind, |v| v["type"] == kind).await
}

/// The next JSON message that passes `wanted`, passing over others; `what` names
/// it in the error.
pub async fn next_where(ws: &mut Ws, what: &str, wanted: impl Fn(&Value) -> bool) -> Result<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    // One deadline for the whole wait: the messages passed over (pings among them)
    // do not extend it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .with_context(|| format!("no {what} message in time"))?
            .ok_or_else(|| anyhow!("socket closed"))??;
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text)?;
            if wanted(&v) {
                return Ok(v);
            }
        }
    }
}

/// The next binary (preview) frame on `ws`, passing over text messages.
pub async fn next_binary(ws: &mut Ws) -> Result<Vec<u8>> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .context("no preview frame in time")?
            .ok_or_else(|| anyhow!("socket closed"))??
        {
            Message::Binary(b) => return Ok(b.to_vec()),
            _ => continue,
        }
    }
}

/// Send `value` (a command to the server) as a text message.
pub async fn say(ws: &mut Ws, value: Value) -> Result<()> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    ws.send(Message::Text(value.to_string().into())).await?;
    Ok(())
}

/// Send a command and wait for its ack; returns what came before it, which
/// includes every room event the command caused.
pub async fn command(ws: &mut Ws, value: Value) -> Result<Vec<Value>> {
    let id = value["request_id"].clone();
    say(ws, value).await?;
    let mut before = Vec::new();
    loop {
        let m = next_of_any(ws).await?;
        if m["request_id"] == id {
            anyhow::ensure!(m["type"] == "ack", "{m}");
            return Ok(before);
        }
        before.push(m);
    }
}

/// The first message of type `kind` among `messages`.
pub fn find(messages: &[Value], kind: &str) -> Result<Value> {
    messages
        .iter()
        .find(|m| m["type"] == kind)
        .cloned()
        .with_context(|| format!("no {kind} before the ack"))
}

/// The next JSON message, whatever its type; pings do not extend the wait.
pub async fn next_of_any(ws: &mut Ws) -> Result<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no message in time")?
            .context("socket closed")??;
        if let Message::Text(text) = msg {
            return Ok(serde_json::from_str(&text)?);
        }
    }
}

/// Connect and join the room: the connection and the `ROOM_SNAPSHOT` that came
/// before the join's ack.
pub async fn enter(app: &Client, token: &str, session: i64) -> Result<(Ws, Value)> {
    let mut ws = connect(app, token).await?;
    let before = command(
        &mut ws,
        serde_json::json!({"type": "join_room", "request_id": "j", "session": session}),
    )
    .await?;
    Ok((ws, find(&before, "ROOM_SNAPSHOT")?))
}
