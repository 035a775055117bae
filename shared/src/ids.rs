//! Identifiers. Database rows are numbered; the newtypes keep one kind of id from
//! being passed where another is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A canvas: one LED surface with its own frame clock and output.
    CanvasId
);
id_type!(
    /// A stored scene.
    SceneId
);
id_type!(
    /// A piece of content (an image or a video), with its versions.
    AssetId
);
id_type!(
    /// A scene template: a scene with typed parameters.
    TemplateId
);
id_type!(
    /// An input: a sensor connection (MQTT) or a camera.
    InputId
);
id_type!(
    /// A celebration: a scene or cue list played over canvases for a while.
    CelebrationId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A schedule entry.
    ScheduleId
);
id_type!(
    /// A cue list.
    CueListId
);
id_type!(
    /// A venue: where events happen.
    VenueId
);
id_type!(
    /// An event: a conference, a meeting, a show or an emergency.
    EventId
);
id_type!(
    /// A session inside an event, with its own capacity and ledger.
    SessionId
);
id_type!(
    /// An incident reported during an event.
    IncidentId
);
