//! Real-time scheduling for the threads that render and send frames. Under
//! `SCHED_FIFO` they run the moment their deadline comes, whatever else the machine
//! is busy with (HTTP, the database, other processes), and nothing at normal
//! priority can delay a frame. Raising a thread needs `CAP_SYS_NICE` (root, or
//! `LimitRTPRIO=` in a systemd unit); without it the thread keeps normal scheduling
//! and one warning says so.
//!
//! A frame thread that panics is reported in one log line (message and place), and
//! drops back to normal scheduling first. The standard report would symbolize a
//! backtrace when `RUST_BACKTRACE` is set: that reads the binary's debug info for a
//! second or more, and the page faults it takes stall every other thread of the
//! process, so the healthy canvases would skip frames while the broken one is
//! reported (measured with a cold page cache: six frames lost at 40 fps).

use std::cell::Cell;
use std::sync::Once;
use thread_priority::{
    NormalThreadSchedulePolicy, RealtimeThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
    set_thread_priority_and_policy, thread_native_id,
};

thread_local! {
    /// Whether this thread renders or sends frames.
    static FRAME: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread runs under `SCHED_FIFO`.
    static RAISED: Cell<bool> = const { Cell::new(false) };
}

/// Highest priority accepted: `SCHED_FIFO` priorities run 1-99.
pub const MAX_PRIORITY: u8 = 99;

/// Mark the calling thread as one that renders or sends frames, and run it under
/// `SCHED_FIFO` at `priority` (1-99); 0 leaves it under normal scheduling. Failure
/// to raise is logged once per process, not returned: the thread works either way,
/// only with weaker timing.
pub fn enter_frame_thread(priority: u8) {
    install_panic_hook();
    FRAME.set(true);
    if priority == 0 {
        return;
    }
    let policy = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
    match set_policy(priority.min(MAX_PRIORITY), policy) {
        Ok(()) => RAISED.set(true),
        Err(e) => warn_once(priority, &e),
    }
}

fn set_policy(priority: u8, policy: ThreadSchedulePolicy) -> Result<(), String> {
    let priority = ThreadPriority::try_from(priority).map_err(|e| e.to_owned())?;
    set_thread_priority_and_policy(thread_native_id(), priority, policy)
        .map_err(|e| format!("{e:?}"))
}

/// Put a raised thread back under normal scheduling.
fn lower_current_thread() {
    if RAISED.replace(false) {
        // The middle of the 0-100 scale: nice 0, give or take one.
        let _ = set_policy(
            50,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other),
        );
    }
}

/// Chain a hook in front of the panic hook: a frame thread is lowered and reported
/// in one line; every other thread keeps the standard report.
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !FRAME.get() {
                return report(info);
            }
            lower_current_thread();
            let thread = std::thread::current();
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
                .unwrap_or("panic");
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!(
                thread = thread.name().unwrap_or("unnamed"),
                at = %place,
                "frame thread panicked: {message}"
            );
        }));
    });
}

fn warn_once(priority: u8, e: &str) {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            priority,
            error = %e,
            "frame threads keep normal scheduling (real-time priority needs \
             CAP_SYS_NICE); frames can be late when the machine is busy"
        );
    });
}
