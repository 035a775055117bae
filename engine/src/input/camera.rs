//! A camera input: a supervised actor owning one thread of its own, on which the
//! camera's GStreamer pipeline runs (with the `media` feature): the source, then
//! `videoconvert ! videoscale` to grey at the analysis size, into an `appsink`
//! that keeps only the newest frame (`drop=true max-buffers=1 sync=false`). Each
//! frame's rows are copied by stride, thresholded into spots, tracked as blobs
//! (`vision`), mapped onto the pixel map and put on the board whole, where
//! canvases take the newest sighting at the start of each frame.
//!
//! A pipeline that fails or ends is counted, shown in the input's state and
//! started again after a backoff (0.5 s doubling to 30 s). If the thread panics
//! the actor stops and its supervisor starts it again on a fresh thread.

use super::board::CameraSlot;
use super::health::{Status, lock};
use super::mqtt::Retire;
use crate::clock::Clock;
use actix::prelude::*;
use limelight_shared::input::{CameraInput, Connection};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
#[cfg(feature = "media")]
use {super::board::Sighting, super::health::Backoff, super::vision::Analysis};

/// The name of Limelight's sink at the end of a camera's pipeline.
#[cfg(feature = "media")]
const SINK: &str = "limelight_camera";
/// How long a wait for a frame lasts before the thread looks at the bus and its
/// stop flag.
const POLL: Duration = Duration::from_millis(100);

/// Tells the actor its thread is gone, and whether by a panic.
struct Gone(Option<tokio::sync::oneshot::Sender<bool>>);

impl Drop for Gone {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(std::thread::panicking());
        }
    }
}

/// The actor supervising one camera's thread.
pub struct CameraInputActor {
    spec: CameraInput,
    slot: Arc<CameraSlot>,
    status: Arc<Mutex<Status>>,
    clock: Arc<dyn Clock>,
    stop: Option<Arc<AtomicBool>>,
    /// Removed or replaced: never start again.
    retired: bool,
}

impl std::fmt::Debug for CameraInputActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraInputActor")
            .field("name", &self.spec.name)
            .finish()
    }
}

impl CameraInputActor {
    /// A camera writing its sightings to `slot` and its state to `status`.
    pub fn new(
        spec: CameraInput,
        slot: Arc<CameraSlot>,
        status: Arc<Mutex<Status>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            spec,
            slot,
            status,
            clock,
            stop: None,
            retired: false,
        }
    }

    fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

impl Actor for CameraInputActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.retired {
            ctx.stop();
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        self.stop = Some(stop.clone());
        let (gone, ended) = tokio::sync::oneshot::channel();
        let (spec, slot, status, clock) = (
            self.spec.clone(),
            self.slot.clone(),
            self.status.clone(),
            self.clock.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name(format!("camera {}", spec.name))
            .spawn(move || {
                let _gone = Gone(Some(gone));
                watch(&spec, &slot, &status, clock.as_ref(), &stop);
            });
        if let Err(e) = spawned {
            lock(&self.status).last_error = Some(format!("no thread for the camera: {e}"));
            return;
        }
        ctx.spawn(ended.into_actor(self).map(|panicked, act, ctx| {
            if panicked.unwrap_or(true) {
                lock(&act.status).restarts += 1;
                tracing::error!(input = %act.spec.name, "the camera failed; restarting it");
            }
            ctx.stop();
        }));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.halt();
    }
}

impl Supervised for CameraInputActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.halt();
        lock(&self.status).connection = Connection::Reconnecting;
    }
}

impl Handler<Retire> for CameraInputActor {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Self::Context) {
        self.retired = true;
        self.halt();
        ctx.stop();
    }
}

/// What a camera's thread writes to, and its stop flag.
#[cfg(feature = "media")]
#[derive(Clone, Copy)]
struct Outlets<'a> {
    slot: &'a CameraSlot,
    status: &'a Mutex<Status>,
    clock: &'a dyn Clock,
    stop: &'a AtomicBool,
    /// Panic after the fifth frame (fault injection).
    #[cfg(feature = "fault-injection")]
    panics: bool,
}

#[cfg(feature = "media")]
impl Outlets<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Run the camera until `stop`: its pipeline, and after each failure or end a
/// backoff before the next.
#[cfg(feature = "media")]
fn watch(
    spec: &CameraInput,
    slot: &CameraSlot,
    status: &Mutex<Status>,
    clock: &dyn Clock,
    stop: &AtomicBool,
) {
    let out = Outlets {
        slot,
        status,
        clock,
        stop,
        #[cfg(feature = "fault-injection")]
        panics: false,
    };
    let mut backoff = Backoff::default();
    let mut vision = Analysis::new(spec, lock(status).next_blob_id);
    while !out.stopped() {
        let ended = run(spec, &mut vision, &out, &mut backoff);
        if out.stopped() {
            break;
        }
        let left = vision.lose_all();
        let last = slot.newest();
        slot.show(Sighting {
            frame: last.frame,
            at: clock.now(),
            blobs: Vec::new(),
            entries: last.entries.clone(),
        });
        let wait = backoff.next(rand::random());
        {
            let mut s = lock(status);
            s.count_blobs(&left);
            s.blobs.clear();
            s.connection = Connection::Reconnecting;
            s.reconnects += 1;
            s.retry_at = Some(clock.now() + wait);
            s.last_error = Some(ended.clone());
        }
        tracing::warn!(input = %spec.name, error = %ended, wait_ms = wait.as_millis() as u64, "camera stopped; starting it again");
        let until = clock.now() + wait;
        while clock.now() < until && !out.stopped() {
            std::thread::sleep(POLL.min(until.saturating_sub(clock.now())));
        }
    }
}

/// The description of a camera's whole pipeline: its source, then grey at the
/// analysis size into Limelight's sink.
#[cfg(feature = "media")]
pub fn description(spec: &CameraInput) -> String {
    format!(
        "{} ! videoconvert ! videoscale ! video/x-raw,format=GRAY8,width={},height={} ! \
         appsink name={SINK} drop=true max-buffers=1 sync=false",
        spec.source.trim(),
        spec.width,
        spec.height
    )
}

/// Whether `spec`'s pipeline can be built: GStreamer's own words when not.
#[cfg(feature = "media")]
pub fn check_source(spec: &CameraInput) -> Result<(), String> {
    use gstreamer as gst;
    crate::media::init()?;
    let pipeline = gst::parse::launch(&description(spec)).map_err(|e| e.to_string())?;
    let _ = gstreamer::prelude::ElementExt::set_state(&pipeline, gst::State::Null);
    Ok(())
}

/// One run of the pipeline, until it fails, ends or is stopped; why it stopped.
#[cfg(feature = "media")]
fn run(
    spec: &CameraInput,
    vision: &mut Analysis,
    out: &Outlets<'_>,
    backoff: &mut Backoff,
) -> String {
    use gstreamer as gst;
    use gstreamer::prelude::*;
    use gstreamer_app as gst_app;
    if let Err(e) = crate::media::init() {
        return e;
    }
    let pipeline = match gst::parse::launch(&description(spec)) {
        Ok(p) => p,
        Err(e) => return format!("the pipeline does not parse: {e}"),
    };
    let Ok(pipeline) = pipeline.downcast::<gst::Pipeline>() else {
        return "the description is not a pipeline".into();
    };
    let Some(sink) = pipeline
        .by_name(SINK)
        .and_then(|s| s.downcast::<gst_app::AppSink>().ok())
    else {
        return "the pipeline has no sink".into();
    };
    #[cfg(feature = "fault-injection")]
    let out = &Outlets {
        panics: spec.source.contains(super::CAMERA_PANIC_NAME),
        ..*out
    };
    let ended = pull(&pipeline, &sink, vision, out, backoff);
    let _ = pipeline.set_state(gst::State::Null);
    ended
}

/// Take frames from `sink` as they come, until the pipeline fails or ends.
#[cfg(feature = "media")]
fn pull(
    pipeline: &gstreamer::Pipeline,
    sink: &gstreamer_app::AppSink,
    vision: &mut Analysis,
    out: &Outlets<'_>,
    backoff: &mut Backoff,
) -> String {
    use gstreamer as gst;
    use gstreamer::prelude::*;
    let Some(bus) = pipeline.bus() else {
        return "the pipeline has no bus".into();
    };
    if let Err(e) = pipeline.set_state(gst::State::Playing) {
        return format!("the pipeline does not start: {e}");
    }
    let height = vision.size()[1].max(1);
    let wait = gst::ClockTime::from_mseconds(POLL.as_millis() as u64);
    let mut first = true;
    while !out.stopped() {
        if let Some(sample) = sink.try_pull_sample(wait) {
            let at = out.clock.now();
            let Some(buffer) = sample.buffer() else {
                continue;
            };
            let Ok(map) = buffer.map_readable() else {
                continue;
            };
            // Rows of one stride each, which may pad a row past its pixels.
            let stride = (map.len() / height).max(vision.size()[0]);
            // The source's frame number; a count where it gives none.
            let frame = match buffer.offset() {
                u64::MAX => vision.frames(),
                offset => offset,
            };
            let (sighting, blobs, events) = vision.take(&map, stride, frame, at);
            #[cfg(feature = "fault-injection")]
            if out.panics && vision.frames() == 5 {
                #[expect(clippy::panic, reason = "fault injection for supervision tests")]
                {
                    panic!("injected fault in a camera");
                }
            }
            out.slot.show(sighting);
            let mut s = lock(out.status);
            if first {
                first = false;
                backoff.reset();
                s.connection = Connection::Connected;
                s.retry_at = None;
            }
            s.frame = Some(frame);
            s.frames += 1;
            s.blobs = blobs;
            s.next_blob_id = vision.next_id();
            s.count_blobs(&events);
            continue;
        }
        while let Some(message) = bus.pop() {
            match message.view() {
                gst::MessageView::Error(e) => {
                    return format!("the camera failed: {}", e.error());
                }
                gst::MessageView::Eos(_) => return "the source ended".into(),
                _ => {}
            }
        }
        if sink.is_eos() {
            return "the source ended".into();
        }
    }
    String::new()
}

/// Without the `media` feature a camera cannot run: it says so and waits.
#[cfg(not(feature = "media"))]
fn watch(
    _: &CameraInput,
    _: &CameraSlot,
    status: &Mutex<Status>,
    _: &dyn Clock,
    stop: &AtomicBool,
) {
    let mut s = lock(status);
    s.connection = Connection::Reconnecting;
    s.last_error = Some("cameras need a Limelight built with the media feature".into());
    drop(s);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
    }
}
