//! `Memo`: a value read from the store once and kept in memory until a write through
//! this engine clears it. Hot reads (the canvas, scene and cue-list lists that every
//! console and client polls) are answered from it without a database trip.

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};

/// A remembered value, or none until the next read loads it.
#[derive(Debug)]
pub(crate) struct Memo<T> {
    slot: RwLock<Slot<T>>,
}

#[derive(Debug)]
struct Slot<T> {
    /// Bumped by every clear: a load that began before a write must not keep what
    /// it read, which may be from before the write.
    generation: u64,
    value: Option<Arc<T>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self {
            slot: RwLock::new(Slot {
                generation: 0,
                value: None,
            }),
        }
    }
}

impl<T> Memo<T> {
    /// The remembered value, or what `load` reads (and is then remembered).
    pub(crate) async fn get_or_load<E, F>(&self, load: impl FnOnce() -> F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let generation = {
            // Every change to the slot is one assignment: a panic cannot leave it
            // half-made.
            let slot = self.slot.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(value) = &slot.value {
                return Ok(value.clone());
            }
            slot.generation
        };
        let value = Arc::new(load().await?);
        let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
        if slot.generation == generation {
            slot.value = Some(value.clone());
        }
        Ok(value)
    }

    /// Something was written: the next read loads again.
    pub(crate) fn clear(&self) {
        let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
        slot.generation += 1;
        slot.value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn a_value_is_loaded_once_and_again_after_a_clear() -> Result<(), String> {
        let memo = Memo::default();
        let loads = std::cell::Cell::new(0);
        let load = || async {
            loads.set(loads.get() + 1);
            Ok::<_, String>(loads.get())
        };
        assert_eq!(*memo.get_or_load(load).await?, 1);
        assert_eq!(*memo.get_or_load(load).await?, 1);
        memo.clear();
        assert_eq!(*memo.get_or_load(load).await?, 2);
        Ok(())
    }

    #[actix_rt::test]
    async fn a_load_overtaken_by_a_write_is_not_kept() -> Result<(), String> {
        let memo = Memo::default();
        let stale = memo
            .get_or_load(|| async {
                // The write lands while this load is reading.
                memo.clear();
                Ok::<_, String>("before the write")
            })
            .await?;
        assert_eq!(*stale, "before the write");
        let fresh = memo
            .get_or_load(|| async { Ok::<_, String>("after the write") })
            .await?;
        assert_eq!(*fresh, "after the write");
        Ok(())
    }
}
