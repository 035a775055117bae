//! A connection's outbound side: a bounded queue whose receiving end is the
//! WebSocket response body itself. The session task and the worker's room relay
//! queue messages without waiting; actix-web takes frames from the body whenever
//! the socket can take them, so a message costs at most one wake-up of the
//! connection on its way out and a slow socket stops the draining, not the
//! session. Everything that touches the queue runs on the connection's worker
//! thread, so it is a plain single-thread queue.
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
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Most bytes handed to actix-web in one piece; it polls again for the rest.
const CHUNK: usize = 64 * 1024;
/// Longest close reason a close frame can carry (control frames carry at most 125
/// bytes, two of which are the code).
const MAX_CLOSE_REASON: usize = 123;

/// What waits in an outbox.
pub enum Outgoing {
    /// A message, encoded as it is taken.
    Message(Message),
    /// A frame already encoded, shared by every connection it goes to.
    Frame(Bytes),
}

/// Why an outbox did not take a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// It holds as many as it may.
    #[error("the outbox is full")]
    Full,
    /// The connection has ended, or its close frame has gone out.
    #[error("the connection has closed")]
    Closed,
}

struct Queue {
    items: RefCell<VecDeque<Outgoing>>,
    capacity: usize,
    /// The body's task, waiting for the queue to fill.
    waker: RefCell<Option<Waker>>,
    /// Outbox handles alive; with none left the body ends once it has drained.
    senders: Cell<usize>,
    closed: Cell<bool>,
}

/// Where what the client is to receive is queued.
pub struct Outbox(Rc<Queue>);

impl Outbox {
    /// Queue `item` unless the outbox is full or closed.
    pub fn try_push(&self, item: Outgoing) -> Result<(), Refused> {
        let queue = &self.0;
        if queue.closed.get() {
            return Err(Refused::Closed);
        }
        let mut items = queue.items.borrow_mut();
        if items.len() >= queue.capacity {
            return Err(Refused::Full);
        }
        let was_empty = items.is_empty();
        items.push_back(item);
        drop(items);
        // The body drains everything it is woken for, so only the first message
        // after it went idle needs to wake it.
        if was_empty && let Some(waker) = queue.waker.borrow_mut().take() {
            waker.wake();
        }
        Ok(())
    }

    /// Queue a message unless the outbox is full or closed.
    pub fn try_send(&self, message: Message) -> Result<(), Refused> {
        self.try_push(Outgoing::Message(message))
    }

    /// How many more messages it takes.
    pub fn capacity(&self) -> usize {
        self.0.capacity.saturating_sub(self.0.items.borrow().len())
    }

    /// Whether it takes nothing more: the connection has ended or is closing.
    pub fn is_closed(&self) -> bool {
        self.0.closed.get()
    }
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.0.senders.set(self.0.senders.get() + 1);
        Self(self.0.clone())
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let left = self.0.senders.get() - 1;
        self.0.senders.set(left);
        if left == 0
            && let Some(waker) = self.0.waker.borrow_mut().take()
        {
            waker.wake();
        }
    }
}

/// A bounded outbox for this upgrade, with `response`'s body replaced by its
/// draining end.
pub fn attach(response: HttpResponse, capacity: usize) -> (HttpResponse, Outbox) {
    let queue = Rc::new(Queue {
        items: RefCell::new(VecDeque::new()),
        capacity,
        waker: RefCell::new(None),
        senders: Cell::new(1),
        closed: Cell::new(false),
    });
    let drained = queue.clone();
    let response = response.map_body(move |_, upgrade| {
        BoxBody::new(BodyStream::new(OutboundBody {
            queue: drained,
            codec: Codec::new(),
            buf: BytesMut::new(),
            done: false,
            _upgrade: upgrade,
        }))
    });
    (response, Outbox(queue))
}

/// A frame as `message` goes on the wire, for sending to many connections.
pub fn frame(message: Message) -> Result<Bytes, ProtocolError> {
    let mut buf = BytesMut::new();
    Codec::new().encode(message, &mut buf)?;
    Ok(buf.freeze())
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
/// It ends after a close frame, or once every outbox handle has been dropped and
/// everything queued has gone out.
struct OutboundBody {
    queue: Rc<Queue>,
    codec: Codec,
    buf: BytesMut,
    done: bool,
    _upgrade: BoxBody,
}

impl OutboundBody {
    /// Nothing more goes out: later messages are refused, queued ones dropped.
    fn close(&mut self) {
        self.done = true;
        self.queue.closed.set(true);
        self.queue.items.borrow_mut().clear();
    }
}

impl Drop for OutboundBody {
    fn drop(&mut self) {
        self.close();
    }
}

impl Stream for OutboundBody {
    type Item = Result<Bytes, ProtocolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        while !this.done && this.buf.len() < CHUNK {
            let next = this.queue.items.borrow_mut().pop_front();
            match next {
                Some(Outgoing::Frame(frame)) => {
                    // Alone, a shared frame goes to actix-web as it is.
                    if this.buf.is_empty() && this.queue.items.borrow().is_empty() {
                        return Poll::Ready(Some(Ok(frame)));
                    }
                    this.buf.extend_from_slice(&frame);
                }
                Some(Outgoing::Message(message)) => {
                    // Nothing may follow a close frame.
                    let closing = matches!(message, Message::Close(_));
                    if let Err(e) = this.codec.encode(message, &mut this.buf) {
                        return Poll::Ready(Some(Err(e)));
                    }
                    if closing {
                        this.close();
                    }
                }
                None if this.queue.senders.get() == 0 => this.done = true,
                None => {
                    let mut waker = this.queue.waker.borrow_mut();
                    match waker.as_ref() {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => *waker = Some(cx.waker().clone()),
                    }
                    break;
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::{MessageBody, to_bytes};

    fn outbox(capacity: usize) -> (Outbox, BoxBody) {
        let (response, out) = attach(HttpResponse::SwitchingProtocols().finish(), capacity);
        (out, response.into_body())
    }

    #[actix_rt::test]
    async fn the_body_ends_once_every_handle_is_gone_and_nothing_follows_a_close()
    -> Result<(), Box<dyn std::error::Error>> {
        let (out, body) = outbox(3);
        let other = out.clone();
        out.try_send(Message::Text("a".into()))?;
        other.try_push(Outgoing::Frame(frame(Message::Text("b".into()))?))?;
        out.try_send(Message::Close(None))?;
        assert_eq!(out.try_send(Message::Text("c".into())), Err(Refused::Full));
        assert_eq!(out.capacity(), 0);
        // Everything up to the close frame, and the body ends with it although
        // both handles are still alive.
        let sent = to_bytes(body).await.map_err(|e| e.to_string())?;
        assert_eq!(&sent[..], b"\x81\x01a\x81\x01b\x88\x00");
        assert!(other.is_closed());
        assert_eq!(
            out.try_send(Message::Text("d".into())),
            Err(Refused::Closed)
        );

        let (out, body) = outbox(4);
        out.try_send(Message::Text("e".into()))?;
        drop(out);
        let sent = to_bytes(body).await.map_err(|e| e.to_string())?;
        assert_eq!(&sent[..], b"\x81\x01e");
        Ok(())
    }

    #[actix_rt::test]
    async fn a_dropped_body_closes_the_outbox() {
        let (out, body) = outbox(4);
        assert!(body.size() == actix_web::body::BodySize::Stream && !out.is_closed());
        drop(body);
        assert!(out.is_closed());
        assert_eq!(
            out.try_send(Message::Text("a".into())),
            Err(Refused::Closed)
        );
    }
}
