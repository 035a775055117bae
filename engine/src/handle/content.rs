//! Scenes: the stored documents and the library kept in step with them.

use super::*;

impl EngineHandle {
    /// All scenes.
    pub async fn list_scenes(&self) -> Result<Vec<Scene>, EngineError> {
        self.inner
            .store
            .list_scenes()
            .await?
            .iter()
            .map(scene_dto)
            .collect()
    }

    /// A scene by id.
    pub async fn scene(&self, id: SceneId) -> Result<Scene, EngineError> {
        let record = self.inner.store.scene(id.0).await?;
        record
            .as_ref()
            .map(scene_dto)
            .transpose()?
            .ok_or_else(|| EngineError::UnknownScene(format!("with id {id}")))
    }

    /// Add a scene from a JSON body.
    pub async fn create_scene(&self, body: &[u8]) -> Result<Scene, EngineError> {
        let spec = scenes::parse_json(body)?;
        let record = self
            .inner
            .store
            .insert_scene(spec.name.as_str(), &json(&spec), "api")
            .await;
        self.inner.live.scenes_changed();
        scene_dto(&record?)
    }

    /// Replace a scene from a JSON body. Canvases showing it keep the version they
    /// took until the scene is triggered again.
    pub async fn update_scene(&self, id: SceneId, body: &[u8]) -> Result<Scene, EngineError> {
        let spec = scenes::parse_json(body)?;
        let record = self
            .inner
            .store
            .update_scene(id.0, spec.name.as_str(), &json(&spec))
            .await;
        // After the write: a lookup that read the old version cannot keep it.
        self.inner.live.scenes_changed();
        let record = record?.ok_or_else(|| EngineError::UnknownScene(format!("with id {id}")))?;
        scene_dto(&record)
    }

    /// Remove a scene. Canvases showing it keep showing it.
    pub async fn delete_scene(&self, id: SceneId) -> Result<(), EngineError> {
        let deleted = self.inner.store.delete_scene(id.0).await;
        self.inner.live.scenes_changed();
        if deleted? {
            Ok(())
        } else {
            Err(EngineError::UnknownScene(format!("with id {id}")))
        }
    }
}
