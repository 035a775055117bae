//! Real-time scheduling for the threads that render and send frames. Under
//! `SCHED_FIFO` they run the moment their deadline comes, whatever else the machine
//! is busy with (HTTP, the database, other processes), and nothing at normal
//! priority can delay a frame. Raising a thread needs `CAP_SYS_NICE` (root, or
//! `LimitRTPRIO=` in a systemd unit); without it the thread keeps normal scheduling
//! and one warning says so.
//!
//! A raised thread that panics drops back to normal scheduling before the panic is
//! reported: reporting can symbolize a backtrace for a second or more, and at
//! real-time priority that would starve the healthy canvases.

use std::cell::Cell;
use std::sync::Once;
use thread_priority::{
    NormalThreadSchedulePolicy, RealtimeThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
    set_thread_priority_and_policy, thread_native_id,
};

thread_local! {
    /// Whether this thread runs under `SCHED_FIFO`.
    static RAISED: Cell<bool> = const { Cell::new(false) };
}

/// Highest priority accepted: `SCHED_FIFO` priorities run 1-99.
pub const MAX_PRIORITY: u8 = 99;

/// Run the calling thread under `SCHED_FIFO` at `priority` (1-99); 0 leaves it
/// under normal scheduling. Failure is logged once per process, not returned: the
/// thread works either way, only with weaker timing.
pub fn raise_current_thread(priority: u8) {
    if priority == 0 {
        return;
    }
    let policy = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
    match set_policy(priority.min(MAX_PRIORITY), policy) {
        Ok(()) => {
            install_panic_hook();
            RAISED.set(true);
        }
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

/// Chain a hook in front of the panic hook that lowers a raised thread first.
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            lower_current_thread();
            report(info);
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
