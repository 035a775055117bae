//! The command inbox of a canvas. Live commands wait here until the canvas takes
//! them: at the start of its next frame, or when asked for its state. Taking them at
//! the frame means a command that arrives while the canvas waits for its deadline
//! still makes that frame. The inbox outlives the actor, so a command sent while a
//! canvas restarts is applied by the canvas that replaces it.

use super::state::LiveCommand;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// Commands for one canvas, in the order they were sent.
#[derive(Debug, Default)]
pub struct Inbox {
    queue: Mutex<VecDeque<LiveCommand>>,
}

impl Inbox {
    /// Queue a command.
    pub fn push(&self, command: LiveCommand) {
        self.lock().push_back(command);
    }

    /// Move every waiting command into `out`, oldest first.
    pub fn take_into(&self, out: &mut Vec<LiveCommand>) {
        out.extend(self.lock().drain(..));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<LiveCommand>> {
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
        inbox.take_into(&mut out);
        assert!(matches!(
            out.as_slice(),
            [LiveCommand::Blackout(true), LiveCommand::Master(_)]
        ));
        out.clear();
        inbox.take_into(&mut out);
        assert!(out.is_empty());
    }
}
