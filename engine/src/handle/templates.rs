//! Scene templates: stored documents, and the scenes made from them.

use super::*;
use crate::ContentError;
use crate::store::TemplateRecord;
use limelight_shared::ids::{AssetId, TemplateId};
use limelight_shared::template::{Instantiate, Template, TemplateSpec};

fn template_dto(record: &TemplateRecord) -> Result<Template, EngineError> {
    let spec = serde_json::from_str(&record.spec)
        .map_err(|e| EngineError::internal(format!("stored template {}", record.id), e))?;
    Ok(Template {
        id: TemplateId(record.id),
        spec,
    })
}

impl EngineHandle {
    /// Check a template on its own and the assets its defaults name.
    async fn check_template(&self, spec: &TemplateSpec) -> Result<(), EngineError> {
        spec.check().map_err(|e| EngineError::invalid(e.0))?;
        self.check_assets(spec.default_assets()).await
    }

    async fn check_assets(
        &self,
        assets: impl IntoIterator<Item = AssetId>,
    ) -> Result<(), EngineError> {
        for asset in assets {
            if self.inner.store.asset(asset.0).await?.is_none() {
                return Err(ContentError::UnknownAsset(asset).into());
            }
        }
        Ok(())
    }

    /// All templates by name.
    pub async fn list_templates(&self) -> Result<Vec<Template>, EngineError> {
        self.inner
            .store
            .list_templates()
            .await?
            .iter()
            .map(template_dto)
            .collect()
    }

    /// One template.
    pub async fn template(&self, id: TemplateId) -> Result<Template, EngineError> {
        let record = self.inner.store.template(id.0).await?;
        template_dto(&record.ok_or(ContentError::UnknownTemplate(id))?)
    }

    /// Add a template.
    pub async fn create_template(&self, spec: TemplateSpec) -> Result<Template, EngineError> {
        self.check_template(&spec).await?;
        let record = self
            .inner
            .store
            .insert_template(spec.name.as_str(), &json(&spec))
            .await?;
        template_dto(&record)
    }

    /// Replace a template. Scenes made from it stay as they were made.
    pub async fn update_template(
        &self,
        id: TemplateId,
        spec: TemplateSpec,
    ) -> Result<Template, EngineError> {
        self.check_template(&spec).await?;
        let record = self
            .inner
            .store
            .update_template(id.0, spec.name.as_str(), &json(&spec))
            .await?;
        template_dto(&record.ok_or(ContentError::UnknownTemplate(id))?)
    }

    /// Remove a template. Scenes made from it stay.
    pub async fn delete_template(&self, id: TemplateId) -> Result<(), EngineError> {
        if self.inner.store.delete_template(id.0).await? {
            Ok(())
        } else {
            Err(ContentError::UnknownTemplate(id).into())
        }
    }

    /// Make a scene from a template and the values given: stored like any other
    /// scene, played like any other once its content is approved.
    pub async fn instantiate_template(
        &self,
        id: TemplateId,
        request: &Instantiate,
    ) -> Result<Scene, EngineError> {
        let template = self.template(id).await?;
        let scene = template
            .spec
            .instantiate(request)
            .map_err(|e| EngineError::invalid(e.0))?;
        self.check_assets(template.spec.assets_in(request)).await?;
        self.create_scene(scene).await
    }
}
