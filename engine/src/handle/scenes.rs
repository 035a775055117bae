//! Scenes: the stored documents and the library kept in step with them.

use super::*;
use crate::SceneError;
use crate::SceneRef;
use limelight_shared::scene::SceneSpec;

impl EngineHandle {
    /// All scenes.
    pub async fn list_scenes(&self) -> Result<Arc<Vec<Scene>>, EngineError> {
        let store = &self.inner.store;
        self.inner
            .scenes
            .get_or_load(|| async { store.list_scenes().await?.iter().map(scene_dto).collect() })
            .await
    }

    /// A scene by id.
    pub async fn scene(&self, id: SceneId) -> Result<Scene, EngineError> {
        self.list_scenes()
            .await?
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(|| EngineError::Scene(SceneError::Unknown(SceneRef::Id(id))))
    }

    /// Scenes were written: the library and the list read them again.
    fn scenes_changed(&self) {
        self.inner.live.scenes_changed();
        self.inner.scenes.clear();
    }

    /// Add a scene.
    pub async fn create_scene(&self, spec: SceneSpec) -> Result<Scene, EngineError> {
        let record = self
            .inner
            .store
            .insert_scene(spec.name.as_str(), &json(&spec), "api")
            .await;
        self.scenes_changed();
        self.announce(Change::Scenes).await;
        scene_dto(&record?)
    }

    /// Replace a scene. Canvases showing it keep the version they
    /// took until the scene is triggered again.
    pub async fn update_scene(&self, id: SceneId, spec: SceneSpec) -> Result<Scene, EngineError> {
        let record = self
            .inner
            .store
            .update_scene(id.0, spec.name.as_str(), &json(&spec))
            .await;
        // After the write: a lookup that read the old version cannot keep it.
        self.scenes_changed();
        self.announce(Change::Scenes).await;
        let record =
            record?.ok_or_else(|| EngineError::Scene(SceneError::Unknown(SceneRef::Id(id))))?;
        scene_dto(&record)
    }

    /// Remove a scene. Canvases showing it keep showing it.
    pub async fn delete_scene(&self, id: SceneId) -> Result<(), EngineError> {
        let deleted = self.inner.store.delete_scene(id.0).await;
        self.scenes_changed();
        self.announce(Change::Scenes).await;
        if deleted? {
            Ok(())
        } else {
            Err(EngineError::Scene(SceneError::Unknown(SceneRef::Id(id))))
        }
    }

    /// A scene's thumbnail as RGB rows (see [`crate::ThumbnailSize`]), rendered on
    /// the blocking pool: never on a frame clock, and never holding up the
    /// connections of the task that asked.
    pub async fn scene_thumbnail(
        &self,
        id: SceneId,
        size: crate::ThumbnailSize,
    ) -> Result<Vec<u8>, EngineError> {
        let scene = Arc::new(self.scene(id).await?.spec);
        tokio::task::spawn_blocking(move || crate::render::thumbnail(scene, size))
            .await
            .map_err(|e| EngineError::internal("rendering a thumbnail", e))
    }
}
