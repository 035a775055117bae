//! Output of a canvas: the [`Output`] trait every wire protocol implements, the
//! thread that runs one, and the sACN (E1.31) output: which universes carry which
//! pixels ([`UniverseMap`]), how packets are encoded ([`encoder`]) and the sACN
//! output itself ([`sender`]). A recording output (`recording.rs`, built for the
//! crate's tests) keeps what it is given.
//!
//! A canvas hands each frame to its output through a one-frame slot and never waits
//! for it: when the output is behind, the newest frame wins and the ones it replaced
//! are counted (`limelight_output_frames_dropped_total`).

pub mod encoder;
#[cfg(test)]
mod recording;
pub mod sender;
mod slot;
mod universes;

pub use sender::{OutputConfig, spawn_output};
pub use universes::UniverseMap;

use crate::clock::Clock;
use slot::{FrameSlot, Taken};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Shortest wait for a frame: a keep-alive just due is sent without spinning.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// The UDP port of sACN.
pub const SACN_PORT: u16 = 5568;

/// The multicast group of a universe: 239.255.(U>>8).(U&255).
pub fn multicast_group(universe: u16) -> std::net::Ipv4Addr {
    let [hi, lo] = universe.to_be_bytes();
    std::net::Ipv4Addr::new(239, 255, hi, lo)
}

/// Whether this node puts frames on the wire: always on a single node; in a
/// cluster, only while it leads the output (see `crate::cluster`). Output
/// threads read it once a frame, without waiting; a node off air keeps taking
/// frames, so it starts from the newest one when it goes on air.
#[derive(Debug, Clone)]
pub struct OnAir(Arc<AtomicBool>);

impl OnAir {
    /// On air from the start (a single node).
    pub fn on() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }

    /// Off air until told (a node of a cluster, before it leads).
    pub fn off() -> Self {
        Self(Arc::new(AtomicBool::new(false)))
    }

    /// Go on or off air.
    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::Release);
    }

    /// Whether frames go out now.
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// One way of putting a canvas's frames on the wire: sACN today, Art-Net and DDP
/// to come. It runs on a thread of its own (see [`spawn`]); nothing it does holds
/// up the canvas, and no API or database work runs on its thread.
pub trait Output: Send + 'static {
    /// Put a frame (RGB bytes, 3 a pixel) out. `again`: it is the last frame sent
    /// once more, because none came for a keep-alive interval.
    fn send(&mut self, rgb: &[u8], again: bool);
    /// The stream ends on purpose (sACN: Stream_Terminated on every universe).
    fn terminate(&mut self);
    /// How long without a new frame before the last one is sent again, so that
    /// receivers never time out while a canvas restarts.
    fn keepalive(&self) -> Duration;
}

/// The canvas side of an output: hands frames over without waiting.
#[derive(Debug, Clone)]
pub struct OutputTx {
    slot: Arc<FrameSlot>,
}

impl OutputTx {
    /// Hand a frame to the output. One it has not taken yet is replaced (and
    /// counted as dropped): the newest frame wins.
    pub fn send(&self, rgb: Arc<[u8]>) {
        self.slot.put(rgb);
    }
}

/// Owner of an output thread: stops it and waits for the stream's end.
#[derive(Debug)]
pub struct OutputHandle {
    slot: Arc<FrameSlot>,
    join: Option<JoinHandle<()>>,
}

impl OutputHandle {
    /// The canvas's side.
    pub fn sender(&self) -> OutputTx {
        OutputTx {
            slot: self.slot.clone(),
        }
    }

    /// End the stream (the output's [`Output::terminate`]) and wait until it has.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        self.slot.stop();
        if let Some(join) = self.join.take()
            && join.join().is_err()
        {
            tracing::error!("output thread panicked");
        }
    }
}

impl Drop for OutputHandle {
    fn drop(&mut self) {
        if self.join.is_some() {
            self.stop_inner();
        }
    }
}

/// Run `output` for canvas `canvas` on a thread named `name`, at real-time priority
/// `thread_priority` (0: normal scheduling), sending while `on_air`. Keep-alives
/// are timed on `clock`.
pub fn spawn(
    mut output: impl Output,
    canvas: i64,
    name: String,
    thread_priority: u8,
    clock: Arc<dyn Clock>,
    on_air: OnAir,
) -> std::io::Result<OutputHandle> {
    let dropped = metrics::counter!(
        "limelight_output_frames_dropped_total",
        "canvas" => canvas.to_string()
    );
    let slot = Arc::new(FrameSlot::new(dropped));
    let frames = slot.clone();
    let join = std::thread::Builder::new().name(name).spawn(move || {
        crate::realtime::enter_frame_thread(thread_priority);
        let mut last: Option<Arc<[u8]>> = None;
        let mut sent_at = clock.now();
        // Whether anything went out since the stream (re)started on air.
        let mut streaming = false;
        loop {
            let keepalive = output.keepalive();
            let left = keepalive.saturating_sub(clock.now().saturating_sub(sent_at));
            let taken = frames.take(left.max(MIN_WAIT));
            let on = on_air.is_on();
            match taken {
                // The keep-alive counts from when a frame was taken, not from
                // when its send returned: the clock may move while it is sent.
                Taken::Frame(rgb) => {
                    sent_at = clock.now();
                    if on {
                        output.send(&rgb, false);
                    }
                    last = Some(rgb);
                }
                Taken::Nothing => {
                    let now = clock.now();
                    // Just gone on air: the newest frame goes out at once.
                    let due = now.saturating_sub(sent_at) >= keepalive || !streaming;
                    if let Some(rgb) = &last
                        && on
                        && due
                    {
                        sent_at = now;
                        output.send(rgb, true);
                    }
                }
                Taken::Stop => break,
            }
            streaming = on && last.is_some();
        }
        // A standby never started a stream, so it has none to end.
        if on_air.is_on() {
            output.terminate();
        }
    })?;
    Ok(OutputHandle {
        slot,
        join: Some(join),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multicast_groups_follow_the_universe_number() {
        assert_eq!(multicast_group(1).to_string(), "239.255.0.1");
        assert_eq!(multicast_group(258).to_string(), "239.255.1.2");
        assert_eq!(multicast_group(63999).to_string(), "239.255.249.255");
    }
}
