//! The command inbox of a canvas. Live commands wait here until the canvas takes
//! them: at the start of its next frame, or when asked for its state. Taking them at
//! the frame means a command that arrives while the canvas waits for its deadline
//! still makes that frame. The inbox outlives the actor, so a command sent while a
//! canvas restarts is applied by the canvas that replaces it.
//!
//! A command may carry a due time on the canvas clock (a scheduled change sent ahead
//! of time): it waits until the first frame whose deadline is at or after it, so the
//! change shows on exactly that frame whatever the sender's own timing.

use super::state::LiveCommand;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Commands for one canvas, in the order they were sent.
#[derive(Debug, Default)]
pub struct Inbox {
    queue: Mutex<VecDeque<(Option<Duration>, LiveCommand)>>,
}

impl Inbox {
    /// Queue a command.
    pub fn push(&self, command: LiveCommand) {
        self.lock().push_back((None, command));
    }

    /// Queue a command for the first frame due at or after `due` (canvas clock).
    pub fn push_at(&self, command: LiveCommand, due: Duration) {
        self.lock().push_back((Some(due), command));
    }

    /// Move every command due by `now` into `out`, oldest first; later ones wait.
    pub fn take_into(&self, now: Duration, out: &mut Vec<LiveCommand>) {
        let mut queue = self.lock();
        if queue.iter().all(|(due, _)| due.is_none_or(|d| d <= now)) {
            out.extend(queue.drain(..).map(|(_, c)| c));
            return;
        }
        let mut later = VecDeque::with_capacity(queue.len());
        for (due, command) in queue.drain(..) {
            if due.is_none_or(|d| d <= now) {
                out.push(command);
            } else {
                later.push_back((due, command));
            }
        }
        *queue = later;
    }

    /// Forget the commands waiting for a later frame (an operator took the canvas).
    pub fn drop_timed(&self) {
        self.lock().retain(|(due, _)| due.is_none());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Option<Duration>, LiveCommand)>> {
        // A panic while holding the lock cannot leave the queue half-changed.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::values::Percent;

    #[test]
    fn commands_come_out_in_order_once() {
        let inbox = Inbox::default();
        inbox.push(LiveCommand::Blackout(true));
        inbox.push(LiveCommand::Master(Percent::default()));
        let mut out = Vec::new();
        inbox.take_into(Duration::ZERO, &mut out);
        assert!(matches!(
            out.as_slice(),
            [LiveCommand::Blackout(true), LiveCommand::Master(_)]
        ));
        out.clear();
        inbox.take_into(Duration::ZERO, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn a_command_due_later_waits_for_its_frame() {
        let inbox = Inbox::default();
        inbox.push_at(LiveCommand::Blackout(true), Duration::from_millis(100));
        inbox.push(LiveCommand::Blackout(false));
        let mut out = Vec::new();
        inbox.take_into(Duration::from_millis(75), &mut out);
        assert!(matches!(out.as_slice(), [LiveCommand::Blackout(false)]));
        out.clear();
        inbox.take_into(Duration::from_millis(100), &mut out);
        assert!(matches!(out.as_slice(), [LiveCommand::Blackout(true)]));
    }
}
