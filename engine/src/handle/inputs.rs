//! Inputs: stored documents, each run by its actor, and their live state.

use super::*;
use crate::input::InputError;
use crate::store::InputRecord;
use limelight_shared::ids::InputId;
use limelight_shared::input::{CameraInput, Input, InputSpec, InputState, REDACTED};

fn input_spec(record: &InputRecord) -> Result<InputSpec, EngineError> {
    serde_json::from_str(&record.spec)
        .map_err(|e| EngineError::internal(format!("stored input {}", record.id), e))
}

fn input_dto(record: &InputRecord) -> Result<Input, EngineError> {
    Ok(Input {
        id: InputId(record.id),
        spec: input_spec(record)?.redacted(),
    })
}

/// A camera's pipeline must build here: GStreamer's words when it does not.
#[cfg(feature = "media")]
fn check_camera(camera: &CameraInput) -> Result<(), EngineError> {
    crate::input::check_source(camera)
        .map_err(|e| EngineError::invalid(format!("the camera's source cannot be used: {e}")))
}

/// Cameras need GStreamer.
#[cfg(not(feature = "media"))]
fn check_camera(_: &CameraInput) -> Result<(), EngineError> {
    Err(EngineError::invalid(
        "cameras need a Limelight built with the media feature",
    ))
}

impl EngineHandle {
    /// Start every stored input (at engine start).
    pub(super) async fn run_stored_inputs(&self) -> Result<(), EngineError> {
        for record in self.inner.store.list_inputs().await? {
            self.inner
                .inputs
                .run(InputId(record.id), &input_spec(&record)?);
        }
        Ok(())
    }

    /// Check `spec` on its own and its value names against the other inputs'.
    async fn check_input(&self, id: Option<InputId>, spec: &InputSpec) -> Result<(), EngineError> {
        spec.check().map_err(|e| EngineError::invalid(e.0))?;
        match spec {
            InputSpec::Camera(camera) => check_camera(camera)?,
            InputSpec::Mqtt(mqtt) => {
                if let Some(tls) = &mqtt.tls {
                    crate::input::check_tls(tls).map_err(EngineError::invalid)?;
                }
            }
        }
        for record in self.inner.store.list_inputs().await? {
            if Some(InputId(record.id)) == id {
                continue;
            }
            let other = input_spec(&record)?;
            if let Some(name) = spec
                .value_names()
                .find(|name| other.value_names().any(|n| n == *name))
            {
                return Err(InputError::ValueTaken {
                    name: name.to_string(),
                    input: other.name().to_string(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// All inputs by id (passwords shown as `********`).
    pub async fn list_inputs(&self) -> Result<Vec<Input>, EngineError> {
        self.inner
            .store
            .list_inputs()
            .await?
            .iter()
            .map(input_dto)
            .collect()
    }

    /// One input.
    pub async fn input(&self, id: InputId) -> Result<Input, EngineError> {
        let record = self.inner.store.input(id.0).await?;
        input_dto(&record.ok_or(InputError::Unknown(id))?)
    }

    /// Add an input and start it.
    pub async fn create_input(
        &self,
        who: &Principal,
        spec: InputSpec,
    ) -> Result<Input, EngineError> {
        let result = async {
            self.check_input(None, &spec).await?;
            let record = self
                .inner
                .store
                .insert_input(spec.name().as_str(), &json(&spec))
                .await?;
            self.inner.inputs.run(InputId(record.id), &spec);
            input_dto(&record)
        }
        .await;
        let target = format!("input:{}", spec.name());
        self.audit(
            who,
            "input.create",
            &target,
            &json(&spec.redacted()),
            result.as_ref().err(),
        )
        .await;
        result
    }

    /// Replace an input and restart it. A password or TLS key written as
    /// `********` keeps the stored one, so an input read back can be written back.
    pub async fn update_input(
        &self,
        who: &Principal,
        id: InputId,
        spec: InputSpec,
    ) -> Result<Input, EngineError> {
        let result = async {
            let stored = self
                .inner
                .store
                .input(id.0)
                .await?
                .ok_or(InputError::Unknown(id))?;
            let spec = match (spec.clone(), input_spec(&stored)?) {
                (InputSpec::Mqtt(mut mqtt), InputSpec::Mqtt(old)) => {
                    if mqtt.password.as_deref() == Some(REDACTED) {
                        mqtt.password = old.password;
                    }
                    if let Some(tls) = &mut mqtt.tls
                        && tls.client_key.as_deref() == Some(REDACTED)
                    {
                        tls.client_key = old.tls.and_then(|t| t.client_key);
                    }
                    InputSpec::Mqtt(mqtt)
                }
                (spec, _) => spec,
            };
            self.check_input(Some(id), &spec).await?;
            let record = self
                .inner
                .store
                .update_input(id.0, spec.name().as_str(), &json(&spec))
                .await?
                .ok_or(InputError::Unknown(id))?;
            self.inner.inputs.run(id, &spec);
            input_dto(&record)
        }
        .await;
        let target = format!("input:{id}");
        self.audit(
            who,
            "input.update",
            &target,
            &json(&spec.redacted()),
            result.as_ref().err(),
        )
        .await;
        result
    }

    /// Stop and remove an input. Layers bound to its values read 0 from then on.
    pub async fn delete_input(&self, who: &Principal, id: InputId) -> Result<(), EngineError> {
        let result = async {
            if !self.inner.store.delete_input(id.0).await? {
                return Err(InputError::Unknown(id).into());
            }
            self.inner.inputs.retire(id);
            Ok(())
        }
        .await;
        let target = format!("input:{id}");
        self.audit(who, "input.delete", &target, "{}", result.as_ref().err())
            .await;
        result
    }

    /// The commands of the MQTT command topic (once: the API's shell reads them),
    /// when the configuration turns them on.
    pub fn take_mqtt_commands(&self) -> Option<crate::input::MqttCommands> {
        self.inner
            .mqtt_commands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// The principal of the user named `username`.
    pub async fn principal_named(&self, username: &str) -> Result<Principal, EngineError> {
        let record = self.inner.store.user_by_name(username).await?;
        let record = record
            .ok_or_else(|| EngineError::invalid(format!("there is no user named {username:?}")))?;
        self.principal(UserId(record.id)).await
    }

    /// How every running input stands, by id.
    pub fn input_states(&self) -> Vec<InputState> {
        self.inner.inputs.states()
    }

    /// How an input stands: its connection, its values and their age.
    pub async fn input_state(&self, id: InputId) -> Result<InputState, EngineError> {
        self.input(id).await?;
        self.inner
            .inputs
            .state(id)
            .ok_or_else(|| InputError::Unknown(id).into())
    }
}
