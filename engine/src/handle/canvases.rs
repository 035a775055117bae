//! Canvas configuration: create, change and remove canvases.

use super::*;
use crate::CanvasError;

impl EngineHandle {
    /// All canvases with their configuration.
    pub async fn list_canvases(&self) -> Result<Arc<Vec<Canvas>>, EngineError> {
        let store = &self.inner.store;
        self.inner
            .canvases
            .get_or_load(|| async {
                store
                    .list_canvases()
                    .await?
                    .iter()
                    .map(canvas_dto)
                    .collect()
            })
            .await
    }

    /// A canvas's configuration.
    pub async fn canvas(&self, id: CanvasId) -> Result<Canvas, EngineError> {
        self.list_canvases()
            .await?
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .ok_or(EngineError::Canvas(CanvasError::Unknown(id)))
    }

    /// Refuse a configuration whose universes leave sACN's range or overlap another
    /// canvas's.
    async fn check_universes(
        &self,
        spec: &CanvasSpec,
        except: Option<CanvasId>,
    ) -> Result<(), EngineError> {
        let map = UniverseMap::new(spec.pixels.get(), &spec.output)
            .map_err(|e| EngineError::invalid(e.to_string()))?;
        for other in self.list_canvases().await?.iter() {
            if Some(other.id) == except {
                continue;
            }
            let theirs = UniverseMap::new(other.spec.pixels.get(), &other.spec.output)
                .map_err(|e| EngineError::internal(format!("stored canvas {}", other.id), e))?;
            if map.overlaps(&theirs) {
                let (a, b) = (map.range(), theirs.range());
                return Err(CanvasError::Overlap {
                    ours: (a.first, a.last),
                    other: other.spec.name.as_str().to_owned(),
                    theirs: (b.first, b.last),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Add a canvas and start it.
    pub async fn create_canvas(&self, spec: CanvasSpec) -> Result<Canvas, EngineError> {
        self.check_universes(&spec, None).await?;
        let cid = uuid::Uuid::new_v4();
        let record = self
            .inner
            .store
            .insert_canvas(spec.name.as_str(), &json(&spec), &cid.to_string())
            .await;
        self.inner.canvases.clear();
        let record = record?;
        let (setup, cid) = setup_from_record(&self.inner.store, record.clone()).await?;
        self.start_canvas(setup, cid).await?;
        self.canvases_changed().await?;
        self.announce(Change::Canvas {
            canvas: CanvasId(record.id),
        })
        .await;
        canvas_dto(&record)
    }

    /// Replace a canvas's configuration and restart it with it (live state kept).
    pub async fn update_canvas(
        &self,
        id: CanvasId,
        spec: CanvasSpec,
    ) -> Result<Canvas, EngineError> {
        self.check_universes(&spec, Some(id)).await?;
        let record = self
            .inner
            .store
            .update_canvas(id.0, spec.name.as_str(), &json(&spec))
            .await;
        self.inner.canvases.clear();
        let record = record?.ok_or(EngineError::Canvas(CanvasError::Unknown(id)))?;
        let (setup, cid) = setup_from_record(&self.inner.store, record.clone()).await?;
        self.start_canvas(setup, cid).await?;
        self.announce(Change::Canvas { canvas: id }).await;
        canvas_dto(&record)
    }

    /// Stop a canvas (Stream_Terminated) and remove it.
    pub async fn delete_canvas(&self, id: CanvasId) -> Result<(), EngineError> {
        let deleted = self.inner.store.delete_canvas(id.0).await;
        self.inner.canvases.clear();
        if !deleted? {
            return Err(EngineError::Canvas(CanvasError::Unknown(id)));
        }
        self.inner
            .directory
            .send(directory::RemoveCanvas(id))
            .await
            .map_err(mailbox)?;
        self.canvases_changed().await?;
        self.announce(Change::Canvas { canvas: id }).await;
        Ok(())
    }
}
