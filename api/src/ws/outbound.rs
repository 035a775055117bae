//! A connection's outbound side: a bounded queue whose receiving end is the
//! WebSocket response body itself. The session task queues messages without
//! waiting; actix-web takes frames from the body whenever the socket can take them,
//! so a message costs one wake-up of the connection on its way out and a slow
//! socket stops the draining, not the session.
//!
//! actix-ws does the upgrade and reads the client's frames; its own response body
//! (fed by its `Session`, which this module does not use) is kept inside ours until
//! the connection ends, because dropping it is what tells actix-ws's reader that the
//! connection has closed.

use actix_codec::Encoder;
use actix_http::ws::Codec;
use actix_web::HttpResponse;
use actix_web::body::{BodyStream, BoxBody};
use actix_web::web::{Bytes, BytesMut};
use actix_ws::{CloseReason, Message, ProtocolError};
use futures_core::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Most bytes handed to actix-web in one piece; it polls again for the rest.
const CHUNK: usize = 64 * 1024;
/// Longest close reason a close frame can carry (control frames carry at most 125
/// bytes, two of which are the code).
const MAX_CLOSE_REASON: usize = 123;

/// Where the session queues what the client is to receive.
pub type Outbox = mpsc::Sender<Message>;

/// A bounded outbox for this upgrade, with `response`'s body replaced by its
/// draining end.
pub fn attach(response: HttpResponse, capacity: usize) -> (HttpResponse, Outbox) {
    let (tx, rx) = mpsc::channel(capacity);
    let response = response.map_body(|_, upgrade| {
        BoxBody::new(BodyStream::new(OutboundBody {
            rx,
            codec: Codec::new(),
            buf: BytesMut::new(),
            done: false,
            _upgrade: upgrade,
        }))
    });
    (response, tx)
}

/// A close frame for `reason`, its text cut to what a close frame carries.
pub fn close(mut reason: CloseReason) -> Message {
    if let Some(text) = reason.description.as_mut()
        && text.len() > MAX_CLOSE_REASON
    {
        let mut end = MAX_CLOSE_REASON;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Message::Close(Some(reason))
}

/// The response body: frames encoded from the outbox as actix-web asks for them.
/// It ends after a close frame, or once the session has dropped the outbox and
/// everything queued has gone out.
struct OutboundBody {
    rx: mpsc::Receiver<Message>,
    codec: Codec,
    buf: BytesMut,
    done: bool,
    _upgrade: BoxBody,
}

impl Stream for OutboundBody {
    type Item = Result<Bytes, ProtocolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        while !this.done && this.buf.len() < CHUNK {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(message)) => {
                    // Nothing may follow a close frame.
                    if matches!(message, Message::Close(_)) {
                        this.done = true;
                        this.rx.close();
                    }
                    if let Err(e) = this.codec.encode(message, &mut this.buf) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Ready(None) => this.done = true,
                Poll::Pending => break,
            }
        }
        if !this.buf.is_empty() {
            return Poll::Ready(Some(Ok(this.buf.split().freeze())));
        }
        if this.done {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}
