//! The nodes' fan-out through Redis (`redis_url`). A node publishes an event on
//! a channel; every node that listens to the channel hears it, in one order.
//!
//! Redis pub/sub alone is at-most-once: what is published while a subscriber
//! reconnects is lost. So every event is also appended to a Redis stream of its
//! channel, and each published message names the stream entry before it. A
//! listener that sees a message whose predecessor is not the last one it heard,
//! or that has just reconnected, reads the gap back from the stream; when the
//! gap is no longer there (the stream is trimmed to [`STREAM_LEN`] entries), it
//! is told [`Heard::Gap`] so it can take a fresh snapshot instead. Nothing is
//! missed silently.
//!
//! One connection of its own carries the subscription (a pooled connection
//! cannot: pooled connections are handed from caller to caller), under a loop
//! that reconnects with backoff and subscribes again. Publishing uses the
//! bb8 pool ([`Redis`]). [`Bus::round_trip`] proves the whole path, a publish
//! heard back on the subscription, for readiness checks.

pub mod lease;
mod pool;

pub use pool::{CALL_TIMEOUT, Redis};

use limelight_shared::cluster::ServiceHealth;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Entries kept in each channel's stream (approximately: Redis trims whole nodes).
pub const STREAM_LEN: usize = 10_000;
/// Prefix of the pub/sub channels.
const CHANNELS: &str = "limelight:bus:";
/// Prefix of the streams.
const STREAMS: &str = "limelight:stream:";
/// First wait before subscribing again; doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Longest a readiness round trip may take.
const ROUND_TRIP_TIMEOUT: Duration = Duration::from_millis(500);
/// Stream id before any entry.
const START: &str = "0-0";

/// Append to the stream, then publish, atomically: the message carries the id
/// of the entry before it and its own.
const PUBLISH: &str = r"
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if #last > 0 then prev = last[1][1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'prev', prev, 'body', ARGV[1])
redis.call('PUBLISH', KEYS[2], prev .. ' ' .. id .. ' ' .. ARGV[1])
return id
";

/// A stream entry as `XRANGE` answers it: its id and fields.
type StreamEntry = (String, HashMap<String, String>);

/// What a listener of a channel hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// The next event, in the channel's order.
    Event(String),
    /// Events were lost and cannot be read back: take a fresh snapshot.
    Gap,
}

/// The fan-out. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    redis: Redis,
    client: redis::Client,
    script: redis::Script,
    channels: Mutex<HashMap<String, Channel>>,
    /// Whether the subscription is up now.
    subscribed: std::sync::atomic::AtomicBool,
    /// Round trips waiting for their echo, by nonce.
    echoes: Mutex<HashMap<String, oneshot::Sender<()>>>,
    node: String,
}

/// One channel's listeners and the last entry they heard.
#[derive(Debug)]
struct Channel {
    last: String,
    listeners: Vec<mpsc::UnboundedSender<Heard>>,
}

impl Bus {
    /// The fan-out through the Redis at `url` for node `node`; the subscription
    /// starts on the current actix arbiter and keeps trying while Redis is down.
    pub fn start(url: &str, node: &str) -> Result<Self, String> {
        let redis = Redis::new(url)?;
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let bus = Self {
            inner: Arc::new(Inner {
                redis,
                client,
                script: redis::Script::new(PUBLISH),
                channels: Mutex::default(),
                subscribed: std::sync::atomic::AtomicBool::new(false),
                echoes: Mutex::default(),
                node: node.to_owned(),
            }),
        };
        actix::spawn(bus.clone().subscribe_forever());
        Ok(bus)
    }

    /// The connection pool, for other users of the same Redis.
    pub fn redis(&self) -> &Redis {
        &self.inner.redis
    }

    /// Publish `event` on `channel`: appended to its stream, then to every
    /// listener of every node.
    pub async fn publish(&self, channel: &str, event: &str) -> Result<(), String> {
        let keys = [
            format!("{STREAMS}{channel}"),
            format!("{CHANNELS}{channel}"),
        ];
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let args = [event.to_owned(), STREAM_LEN.to_string()];
        let published = self
            .inner
            .redis
            .eval::<String, _>(&self.inner.script, &keys, &args)
            .await;
        match &published {
            Ok(_) => metrics::counter!("limelight_bus_published_total").increment(1),
            Err(_) => metrics::counter!("limelight_bus_publish_errors_total").increment(1),
        }
        published.map(drop)
    }

    /// Hear `channel` from now on: every event published after this call, in
    /// order, or [`Heard::Gap`] where some were lost.
    pub async fn listen(&self, channel: &str) -> Result<mpsc::UnboundedReceiver<Heard>, String> {
        let (tx, rx) = mpsc::unbounded_channel();
        let last = self.last_id(channel).await?;
        let mut channels = self
            .inner
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        channels
            .entry(channel.to_owned())
            .or_insert(Channel {
                last,
                listeners: Vec::new(),
            })
            .listeners
            .push(tx);
        Ok(rx)
    }

    /// [`Bus::listen`], tried again with backoff until Redis answers.
    pub async fn listen_retrying(&self, channel: &str) -> mpsc::UnboundedReceiver<Heard> {
        let mut wait = RETRY_FIRST;
        loop {
            match self.listen(channel).await {
                Ok(rx) => return rx,
                Err(e) => {
                    tracing::warn!(%channel, error = %e, "cannot hear the other nodes yet");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RETRY_MAX);
                }
            }
        }
    }

    /// How the fan-out works now: a message published on this node's own
    /// channel must come back on the subscription within 500 ms.
    pub async fn round_trip(&self) -> ServiceHealth {
        let started = Instant::now();
        let outcome = self.echo().await;
        ServiceHealth {
            ok: outcome.is_ok(),
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            error: outcome.err(),
        }
    }

    async fn echo(&self) -> Result<(), String> {
        if !self
            .inner
            .subscribed
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return Err("the subscription to Redis is down".into());
        }
        let nonce = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.inner
            .echoes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(nonce.clone(), tx);
        let trip = async {
            let _: i64 = self
                .inner
                .redis
                .query(redis::cmd("PUBLISH").arg(self.echo_channel()).arg(&nonce))
                .await?;
            rx.await.map_err(|_| "the subscription closed".to_owned())
        };
        let result = tokio::time::timeout(ROUND_TRIP_TIMEOUT, trip)
            .await
            .unwrap_or_else(|_| Err("a message published was not heard back in time".into()));
        self.inner
            .echoes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&nonce);
        result
    }

    fn echo_channel(&self) -> String {
        format!("limelight:echo:{}", self.inner.node)
    }

    /// The id of the newest entry of `channel`'s stream.
    async fn last_id(&self, channel: &str) -> Result<String, String> {
        let key = format!("{STREAMS}{channel}");
        let newest: Vec<(String, Vec<(String, String)>)> = self
            .inner
            .redis
            .query(
                redis::cmd("XREVRANGE")
                    .arg(&key)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1),
            )
            .await?;
        Ok(newest
            .into_iter()
            .next()
            .map_or_else(|| START.to_owned(), |(id, _)| id))
    }

    /// Keep a subscription to every channel for as long as the bus is used.
    async fn subscribe_forever(self) {
        let mut retry = RETRY_FIRST;
        loop {
            match self.subscription().await {
                Ok(()) => retry = RETRY_FIRST,
                Err(e) => tracing::warn!(error = %e, "the Redis subscription failed"),
            }
            self.inner
                .subscribed
                .store(false, std::sync::atomic::Ordering::Release);
            metrics::gauge!("limelight_bus_subscribed").set(0.0);
            if Arc::strong_count(&self.inner) == 1 {
                return;
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(RETRY_MAX);
        }
    }

    /// One subscription, until its connection ends.
    async fn subscription(&self) -> Result<(), String> {
        use futures_util::StreamExt;
        let mut pubsub = self
            .inner
            .client
            .get_async_pubsub()
            .await
            .map_err(|e| e.to_string())?;
        pubsub
            .psubscribe(format!("{CHANNELS}*"))
            .await
            .map_err(|e| e.to_string())?;
        pubsub
            .subscribe(self.echo_channel())
            .await
            .map_err(|e| e.to_string())?;
        self.inner
            .subscribed
            .store(true, std::sync::atomic::Ordering::Release);
        metrics::gauge!("limelight_bus_subscribed").set(1.0);
        tracing::info!("subscribed to the nodes' fan-out on Redis");
        // What was published while no subscription was up is in the streams.
        let channels: Vec<String> = self.lock_channels().keys().cloned().collect();
        for channel in channels {
            self.catch_up(&channel, None).await;
        }
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            let Ok(payload) = message.get_payload::<String>() else {
                continue;
            };
            let name = message.get_channel_name();
            if name == self.echo_channel() {
                let waiting = self
                    .inner
                    .echoes
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&payload);
                if let Some(tx) = waiting {
                    let _ = tx.send(());
                }
                continue;
            }
            let Some(channel) = name.strip_prefix(CHANNELS) else {
                continue;
            };
            let mut parts = payload.splitn(3, ' ');
            let (Some(prev), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            self.deliver(channel, prev, id, body).await;
        }
        Err("the connection closed".into())
    }

    fn lock_channels(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.inner
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Hand one published message to `channel`'s listeners, reading back what
    /// came before it first if that was missed.
    async fn deliver(&self, channel: &str, prev: &str, id: &str, body: &str) {
        let last = match self.lock_channels().get(channel) {
            None => return,
            Some(c) => c.last.clone(),
        };
        if stream_order(id) <= stream_order(&last) {
            // Already heard, in a catch-up.
            return;
        }
        if prev != last {
            metrics::counter!("limelight_bus_gaps_total").increment(1);
            self.catch_up(channel, Some(id)).await;
            return;
        }
        self.hand_out(channel, id, Heard::Event(body.to_owned()));
    }

    /// Read `channel`'s stream after the last entry heard (up to `upto`, or to
    /// its end) and hand it out; [`Heard::Gap`] when the entry after the last
    /// one heard is gone.
    async fn catch_up(&self, channel: &str, upto: Option<&str>) {
        let last = match self.lock_channels().get(channel) {
            None => return,
            Some(c) => c.last.clone(),
        };
        let key = format!("{STREAMS}{channel}");
        let read: Result<Vec<StreamEntry>, String> = self
            .inner
            .redis
            .query(
                redis::cmd("XRANGE")
                    .arg(&key)
                    .arg(format!("({last}"))
                    .arg(upto.unwrap_or("+")),
            )
            .await;
        let entries = match read {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(%channel, error = %e, "a gap in the fan-out could not be read back");
                let newest = upto.map_or_else(|| last.clone(), str::to_owned);
                self.hand_out(channel, &newest, Heard::Gap);
                return;
            }
        };
        let mut expected = last;
        for (id, fields) in entries {
            if fields.get("prev") != Some(&expected) {
                let newest = upto.map_or_else(|| id.clone(), str::to_owned);
                self.hand_out(channel, &newest, Heard::Gap);
                return;
            }
            let body = fields.get("body").cloned().unwrap_or_default();
            metrics::counter!("limelight_bus_replayed_total").increment(1);
            self.hand_out(channel, &id, Heard::Event(body));
            expected = id;
        }
        match upto {
            Some(upto) if expected != upto => self.hand_out(channel, upto, Heard::Gap),
            Some(_) => {}
            // Entries trimmed away after the last one heard leave nothing to
            // read back, but the stream's newest entry is past it.
            None => match self.last_id(channel).await {
                Ok(newest) if stream_order(&newest) > stream_order(&expected) => {
                    self.hand_out(channel, &newest, Heard::Gap);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(%channel, error = %e, "the fan-out's stream could not be read");
                    self.hand_out(channel, &expected, Heard::Gap);
                }
            },
        }
    }

    /// Give `heard` to `channel`'s listeners and take `id` as the last heard;
    /// listeners that went away are forgotten, and so is a channel without any.
    fn hand_out(&self, channel: &str, id: &str, heard: Heard) {
        let mut channels = self.lock_channels();
        let Some(c) = channels.get_mut(channel) else {
            return;
        };
        c.last = id.to_owned();
        c.listeners.retain(|tx| tx.send(heard.clone()).is_ok());
        if c.listeners.is_empty() {
            channels.remove(channel);
        }
    }
}

/// A stream id as numbers, for comparing: `<ms>-<seq>`.
fn stream_order(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_compare_as_numbers() {
        assert!(stream_order("10-0") > stream_order("9-5"));
        assert!(stream_order("10-10") > stream_order("10-2"));
        assert_eq!(stream_order(START), (0, 0));
    }
}
