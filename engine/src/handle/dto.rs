//! Stored records turned into the wire types the API answers with.

use super::*;

pub(super) fn canvas_spec(record: &CanvasRecord) -> Result<CanvasSpec, EngineError> {
    serde_json::from_str(&record.spec).map_err(|e| {
        EngineError::Store(store::StoreError::Corrupt(format!(
            "canvas {}: {e}",
            record.id
        )))
    })
}

pub(super) fn scene_dto(record: &SceneRecord) -> Result<Scene, EngineError> {
    Ok(Scene {
        id: SceneId(record.id),
        origin: record.origin.clone(),
        spec: scene_spec(record)?,
    })
}

pub(super) fn canvas_dto(record: &CanvasRecord) -> Result<Canvas, EngineError> {
    let spec = canvas_spec(record)?;
    let universes = UniverseMap::new(spec.pixels.get(), &spec.output)
        .map_err(|e| EngineError::internal(format!("stored canvas {}", record.id), e))?
        .range();
    Ok(Canvas {
        id: CanvasId(record.id),
        spec,
        universes,
    })
}

pub(super) fn user_dto(record: &UserRecord) -> Result<User, EngineError> {
    Ok(User {
        id: UserId(record.id),
        username: record.username.clone(),
        role: record
            .role
            .parse()
            .map_err(|e: String| EngineError::Store(store::StoreError::Corrupt(e)))?,
        created_at: store::rfc3339(record.created_at),
        approver: record.approver,
    })
}

/// What a canvas shows from its stored state (a cue list, or else its scene), for
/// the scheduler to start from.
pub(super) fn shown(record: &CanvasRecord) -> Option<limelight_shared::schedule::Play> {
    if let Some(cue_list) = crate::cue_list::stored_list(record.live_cues.as_deref()) {
        return Some(limelight_shared::schedule::Play::CueList { cue_list });
    }
    let live_scene = &record.live_scene;
    let scene = limelight_shared::scene::SceneName::try_from(live_scene.clone()?).ok()?;
    Some(limelight_shared::schedule::Play::Scene {
        scene,
        fade_ms: 0,
        curve: Default::default(),
    })
}

pub(super) fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}
