//! The scene library in memory: parsed scenes by name, read from the store on first
//! use and forgotten whenever this engine writes a scene. Triggering a known scene
//! then costs no database round trip, which keeps operator commands (and scheduled
//! changes) quick to reach the wire.
//!
//! A fill races with writes: a lookup that read the store before a write must not
//! put the old version back. Each write bumps a generation, and a fill only lands
//! if the generation is the one it started under.

use limelight_shared::scene::SceneSpec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Default)]
struct Inner {
    generation: u64,
    scenes: HashMap<String, Arc<SceneSpec>>,
}

/// Parsed scenes by name.
#[derive(Debug, Default)]
pub struct SceneLibrary {
    inner: Mutex<Inner>,
}

/// What a lookup found: the scene, or the generation to fill under after reading
/// the store.
#[derive(Debug)]
pub enum Lookup {
    /// In memory.
    Hit(Arc<SceneSpec>),
    /// Not in memory; read it and [`SceneLibrary::fill`] with this generation.
    Miss(u64),
}

impl SceneLibrary {
    /// The scene called `name`, if it is in memory.
    pub fn get(&self, name: &str) -> Lookup {
        let inner = self.lock();
        match inner.scenes.get(name) {
            Some(scene) => Lookup::Hit(scene.clone()),
            None => Lookup::Miss(inner.generation),
        }
    }

    /// Keep a scene read from the store, unless a write happened since `generation`.
    pub fn fill(&self, generation: u64, scene: Arc<SceneSpec>) {
        let mut inner = self.lock();
        if inner.generation == generation {
            inner.scenes.insert(scene.name.as_str().to_owned(), scene);
        }
    }

    /// Forget every scene: one was written.
    pub fn invalidate(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.scenes.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(name: &str, color: &str) -> Arc<SceneSpec> {
        let json = format!(
            r#"{{"name": "{name}", "layers": [{{"effect": "solid", "color": "{color}"}}]}}"#
        );
        Arc::new(serde_json::from_str(&json).unwrap_or_else(|e| unreachable!("{e}")))
    }

    #[test]
    fn a_fill_from_before_a_write_is_dropped() {
        let library = SceneLibrary::default();
        let Lookup::Miss(generation) = library.get("red") else {
            unreachable!("empty library")
        };
        // A write lands between the store read and the fill.
        library.invalidate();
        library.fill(generation, scene("red", "#FF0000"));
        assert!(matches!(library.get("red"), Lookup::Miss(_)));

        let Lookup::Miss(generation) = library.get("red") else {
            unreachable!("still empty")
        };
        library.fill(generation, scene("red", "#EE0000"));
        assert!(matches!(library.get("red"), Lookup::Hit(s) if s.name.as_str() == "red"));
        library.invalidate();
        assert!(matches!(library.get("red"), Lookup::Miss(_)));
    }
}
