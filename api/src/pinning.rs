//! Keeping HTTP workers on cores of their own (`http_pin_workers`). A room's
//! event is sent to thousands of connections in a burst, split between the
//! workers; two workers the scheduler has put on one core send it at half speed
//! until it moves one of them. Pinned, each worker has its core from the first
//! connection on. Other threads (frame threads, actors, the database) are not
//! pinned, and frame threads, under `SCHED_FIFO`, still preempt a worker. Threads
//! a worker starts itself inherit its core: its blocking pool, where logins hash
//! passwords, shares the worker's core.

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Hands out the process's cores, in turn, to workers as they start.
#[derive(Debug)]
pub struct Pinning {
    cores: Vec<usize>,
    next: AtomicUsize,
}

impl Pinning {
    /// The cores this process may run on.
    pub fn new() -> nix::Result<Self> {
        let allowed = sched_getaffinity(Pid::from_raw(0))?;
        let cores = (0..CpuSet::count())
            .filter(|&core| allowed.is_set(core).unwrap_or(false))
            .collect();
        Ok(Self {
            cores,
            next: AtomicUsize::new(0),
        })
    }

    /// Keep the calling thread on the next core. A failure leaves the thread
    /// where it was, with one warning.
    pub fn pin_current_thread(&self) {
        if self.cores.is_empty() {
            return;
        }
        let core = self.cores[self.next.fetch_add(1, Ordering::Relaxed) % self.cores.len()];
        let mut set = CpuSet::new();
        let pinned = set
            .set(core)
            .and_then(|()| sched_setaffinity(Pid::from_raw(0), &set));
        match pinned {
            Ok(()) => tracing::debug!(core, "HTTP worker pinned"),
            Err(e) => tracing::warn!(core, error = %e, "cannot pin an HTTP worker to its core"),
        }
    }
}
