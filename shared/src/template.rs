//! Scene templates: a scene with typed parameters (colour, number, asset, text)
//! and their defaults. Instantiating one with values makes an ordinary scene, so
//! the content team fills in two team colours and gets a "Celebration" to play.
//!
//! A parameter's value goes wherever the template's layers hold
//! `{"param": "<name>"}`: any value of a layer, whole.

use crate::ids::{AssetId, TemplateId};
use crate::scene::{MAX_LAYERS, MAX_TEXT, SceneName, SceneSpec};
use crate::values::{RangeError, Rgb};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Most parameters one template declares.
pub const MAX_PARAMETERS: usize = 32;
/// Longest parameter name.
pub const MAX_PARAMETER_NAME: usize = 32;

/// A parameter of a template: its name, a label for the console, and a default of
/// its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Parameter {
    /// A colour, `#RRGGBB`.
    Color {
        /// Name used in `{"param": …}`: a lower-case letter, then letters, digits or `_`.
        name: String,
        /// What the console shows; the name when empty.
        #[serde(default)]
        label: String,
        /// The colour used when none is given.
        #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^#[0-9A-Fa-f]{6}$"))]
        default: Rgb,
    },
    /// A number, optionally between `min` and `max`.
    Number {
        /// Name used in `{"param": …}`.
        name: String,
        /// What the console shows; the name when empty.
        #[serde(default)]
        label: String,
        /// The number used when none is given.
        default: f64,
        /// Smallest value allowed.
        #[serde(default)]
        min: Option<f64>,
        /// Largest value allowed.
        #[serde(default)]
        max: Option<f64>,
    },
    /// A piece of content; without a default, every instantiation names one.
    Asset {
        /// Name used in `{"param": …}`.
        name: String,
        /// What the console shows; the name when empty.
        #[serde(default)]
        label: String,
        /// The asset used when none is given.
        #[serde(default)]
        default: Option<AssetId>,
    },
    /// A piece of text (a message for a text layer, say).
    Text {
        /// Name used in `{"param": …}`.
        name: String,
        /// What the console shows; the name when empty.
        #[serde(default)]
        label: String,
        /// The text used when none is given.
        #[cfg_attr(feature = "openapi", schema(max_length = 500))]
        default: String,
    },
}

impl Parameter {
    /// The parameter's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Color { name, .. }
            | Self::Number { name, .. }
            | Self::Asset { name, .. }
            | Self::Text { name, .. } => name,
        }
    }

    /// The value used when none is given; `None` for an asset without a default.
    fn default_value(&self) -> Option<Value> {
        match self {
            Self::Color { default, .. } => Some(Value::String(default.to_string())),
            Self::Number { default, .. } => Some(number(*default)),
            Self::Asset { default, .. } => default.map(|a| Value::from(a.0)),
            Self::Text { default, .. } => Some(Value::String(default.clone())),
        }
    }

    /// `value` checked against the parameter's kind, as it goes into the scene.
    fn accept(&self, value: &Value) -> Result<Value, RangeError> {
        let name = self.name();
        let wrong =
            |what: &str| RangeError(format!("parameter {name:?} takes {what}, got {value}"));
        match self {
            Self::Color { .. } => {
                let text = value
                    .as_str()
                    .ok_or_else(|| wrong("a colour \"#RRGGBB\""))?;
                let colour: Rgb = text
                    .parse()
                    .map_err(|e: RangeError| RangeError(format!("parameter {name:?}: {e}")))?;
                Ok(Value::String(colour.to_string()))
            }
            Self::Number { min, max, .. } => {
                let n = value.as_f64().ok_or_else(|| wrong("a number"))?;
                check_range(name, n, *min, *max)?;
                Ok(number(n))
            }
            Self::Asset { .. } => match value.as_i64() {
                Some(id) if id > 0 => Ok(Value::from(id)),
                _ => Err(wrong("an asset id")),
            },
            Self::Text { .. } => {
                let text = value.as_str().ok_or_else(|| wrong("text"))?;
                check_text(name, text)?;
                Ok(Value::String(text.to_owned()))
            }
        }
    }

    /// The declaration on its own: a good name and a default that fits.
    fn check(&self) -> Result<(), RangeError> {
        let name = self.name();
        let mut chars = name.chars();
        let good = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && name.len() <= MAX_PARAMETER_NAME;
        if !good {
            return Err(RangeError(format!(
                "parameter name {name:?} must be 1 to {MAX_PARAMETER_NAME} characters: a \
                 lower-case letter, then lower-case letters, digits or _"
            )));
        }
        match self {
            Self::Number {
                default, min, max, ..
            } => {
                for bound in [min, max].into_iter().flatten() {
                    if !bound.is_finite() {
                        return Err(RangeError(format!(
                            "parameter {name:?}: min and max must be finite numbers"
                        )));
                    }
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    return Err(RangeError(format!(
                        "parameter {name:?}: min {lo} is above max {hi}"
                    )));
                }
                check_range(name, *default, *min, *max)
            }
            Self::Text { default, .. } => check_text(name, default),
            Self::Asset {
                default: Some(AssetId(id)),
                ..
            } if *id <= 0 => Err(RangeError(format!(
                "parameter {name:?}: asset ids are positive, got {id}"
            ))),
            _ => Ok(()),
        }
    }
}

/// A number as JSON: whole numbers as integers, so they fit integer fields.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

fn check_range(name: &str, n: f64, min: Option<f64>, max: Option<f64>) -> Result<(), RangeError> {
    if !n.is_finite() {
        return Err(RangeError(format!(
            "parameter {name:?} must be a finite number"
        )));
    }
    if min.is_some_and(|lo| n < lo) || max.is_some_and(|hi| n > hi) {
        let bound = |b: Option<f64>| b.map_or_else(|| "any".to_owned(), |b| b.to_string());
        return Err(RangeError(format!(
            "parameter {name:?} must be between {} and {}, got {n}",
            bound(min),
            bound(max)
        )));
    }
    Ok(())
}

fn check_text(name: &str, text: &str) -> Result<(), RangeError> {
    if text.chars().count() > MAX_TEXT {
        return Err(RangeError(format!(
            "parameter {name:?}: text is at most {MAX_TEXT} characters"
        )));
    }
    Ok(())
}

/// A template document, as stored and as written over REST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// Unique name among templates.
    pub name: SceneName,
    /// Free text for the content team.
    #[serde(default)]
    pub description: String,
    /// The parameters, in the order the console asks for them.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 32))]
    pub parameters: Vec<Parameter>,
    /// The scene's layers as in a scene, with `{"param": "<name>"}` wherever a
    /// parameter's value goes.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 32, value_type = Vec<Object>))]
    pub layers: Vec<Value>,
}

impl TemplateSpec {
    /// Check the template: parameters well declared, each used and each use
    /// declared, and the scene its defaults make a valid one.
    pub fn check(&self) -> Result<(), RangeError> {
        if self.parameters.len() > MAX_PARAMETERS {
            return Err(RangeError(format!(
                "a template has at most {MAX_PARAMETERS} parameters"
            )));
        }
        if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
            return Err(RangeError(format!(
                "a template has 1 to {MAX_LAYERS} layers"
            )));
        }
        let mut declared = BTreeSet::new();
        for p in &self.parameters {
            p.check()?;
            if !declared.insert(p.name()) {
                return Err(RangeError(format!(
                    "parameter {:?} is declared twice",
                    p.name()
                )));
            }
        }
        let mut used = BTreeSet::new();
        for layer in &self.layers {
            references(layer, &mut used)?;
        }
        if let Some(unknown) = used.difference(&declared).next() {
            return Err(RangeError(format!(
                "the layers use parameter {unknown:?}, which is not declared"
            )));
        }
        if let Some(unused) = declared.difference(&used).next() {
            return Err(RangeError(format!(
                "parameter {unused:?} is declared but no layer uses it"
            )));
        }
        // The defaults (a stand-in for an asset without one) make a valid scene.
        let values = self
            .parameters
            .iter()
            .map(|p| {
                let value = p.default_value().unwrap_or(Value::from(1));
                (p.name().to_owned(), value)
            })
            .collect();
        self.scene_from(self.name.clone(), String::new(), &values)
            .map(|_| ())
    }

    /// The scene the template makes with `values` (by parameter name; a missing one
    /// takes its default).
    pub fn instantiate(&self, request: &Instantiate) -> Result<SceneSpec, RangeError> {
        let mut values = BTreeMap::new();
        for (name, value) in &request.values {
            let p = self
                .parameters
                .iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| {
                    RangeError(format!("the template has no parameter named {name:?}"))
                })?;
            values.insert(name.clone(), p.accept(value)?);
        }
        for p in &self.parameters {
            if !values.contains_key(p.name()) {
                let value = p.default_value().ok_or_else(|| {
                    RangeError(format!(
                        "parameter {:?} has no default: give it a value",
                        p.name()
                    ))
                })?;
                values.insert(p.name().to_owned(), value);
            }
        }
        let description = request
            .description
            .clone()
            .unwrap_or_else(|| self.description.clone());
        self.scene_from(request.name.clone(), description, &values)
    }

    /// Every asset the template's defaults name.
    pub fn default_assets(&self) -> impl Iterator<Item = AssetId> + '_ {
        self.parameters.iter().filter_map(|p| match p {
            Parameter::Asset { default, .. } => *default,
            _ => None,
        })
    }

    /// The assets a scene made with `request` shows: each asset parameter's
    /// value, or its default.
    pub fn assets_in(&self, request: &Instantiate) -> Vec<AssetId> {
        self.parameters
            .iter()
            .filter_map(|p| match p {
                Parameter::Asset { name, default, .. } => request
                    .values
                    .get(name)
                    .and_then(Value::as_i64)
                    .map(AssetId)
                    .or(*default),
                _ => None,
            })
            .collect()
    }

    fn scene_from(
        &self,
        name: SceneName,
        description: String,
        values: &BTreeMap<String, Value>,
    ) -> Result<SceneSpec, RangeError> {
        let layers: Vec<Value> = self.layers.iter().map(|l| substitute(l, values)).collect();
        let mut scene = Map::new();
        scene.insert("name".into(), Value::String(name.as_str().to_owned()));
        scene.insert("description".into(), Value::String(description));
        scene.insert("layers".into(), Value::Array(layers));
        serde_json::from_value(Value::Object(scene))
            .map_err(|e| RangeError(format!("the scene the template makes: {e}")))
    }
}

/// `{"param": "<name>"}`: the name, when `value` is a reference.
fn reference(value: &Value) -> Option<Result<&str, RangeError>> {
    let object = value.as_object()?;
    let target = object.get("param")?;
    if object.len() != 1 {
        return Some(Err(RangeError(
            "a parameter reference is {\"param\": \"<name>\"} and nothing else".into(),
        )));
    }
    Some(target.as_str().ok_or_else(|| {
        RangeError(format!(
            "a parameter reference names a parameter, got {target}"
        ))
    }))
}

/// Collect the names `value` refers to.
fn references<'a>(value: &'a Value, into: &mut BTreeSet<&'a str>) -> Result<(), RangeError> {
    if let Some(name) = reference(value) {
        into.insert(name?);
        return Ok(());
    }
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| references(v, into)),
        Value::Object(fields) => fields.values().try_for_each(|v| references(v, into)),
        _ => Ok(()),
    }
}

/// `value` with each reference replaced by its parameter's value.
fn substitute(value: &Value, values: &BTreeMap<String, Value>) -> Value {
    if let Some(Ok(name)) = reference(value)
        && let Some(v) = values.get(name)
    {
        return v.clone();
    }
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, values)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), substitute(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A stored template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Template {
    /// Its id.
    pub id: TemplateId,
    /// The document.
    #[serde(flatten)]
    pub spec: TemplateSpec,
}

/// `POST /templates/{id}/instantiate`: the new scene's name and the parameters'
/// values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Instantiate {
    /// Name of the scene to make (unique among scenes).
    pub name: SceneName,
    /// The scene's description; the template's when absent.
    #[serde(default)]
    pub description: Option<String>,
    /// Values by parameter name; a parameter left out takes its default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub values: BTreeMap<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Effect;

    fn celebration() -> TemplateSpec {
        serde_json::from_value(serde_json::json!({
            "name": "Celebration",
            "parameters": [
                {"kind": "color", "name": "home", "label": "Home colour", "default": "#C8102E"},
                {"kind": "color", "name": "away", "default": "#1E90FF"},
                {"kind": "number", "name": "speed", "default": 2, "min": 0.1, "max": 10},
                {"kind": "text", "name": "message", "default": "GOAL"}
            ],
            "layers": [
                {"effect": "chase", "color": {"param": "home"}, "background": {"param": "away"},
                 "speed": {"param": "speed"}},
                {"effect": "text", "text": {"param": "message"}, "color": "#FFFFFF"}
            ]
        }))
        .unwrap_or_else(|e| unreachable!("the test template parses: {e}"))
    }

    fn request(values: serde_json::Value) -> Instantiate {
        serde_json::from_value(serde_json::json!({"name": "Reds v Blues", "values": values}))
            .unwrap_or_else(|e| unreachable!("the test request parses: {e}"))
    }

    #[test]
    fn values_and_defaults_fill_the_scene() {
        let t = celebration();
        assert_eq!(t.check(), Ok(()));
        let scene = t
            .instantiate(&request(
                serde_json::json!({"home": "#ff0000", "message": "WIN"}),
            ))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(scene.name.as_str(), "Reds v Blues");
        let layers = scene.layers.as_slice();
        let Effect::Chase {
            color, background, ..
        } = &layers[0].effect
        else {
            unreachable!("a chase: {:?}", layers[0].effect)
        };
        assert_eq!(
            (*color, *background),
            (Rgb::new(255, 0, 0), Rgb::new(30, 144, 255))
        );
        let Effect::Text { text, .. } = &layers[1].effect else {
            unreachable!("text: {:?}", layers[1].effect)
        };
        assert_eq!(text, "WIN");
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        let t = celebration();
        let refused = |values| {
            t.instantiate(&request(values))
                .err()
                .map(|e| e.0)
                .unwrap_or_default()
        };
        assert!(refused(serde_json::json!({"home": "red"})).contains("#RRGGBB"));
        assert!(refused(serde_json::json!({"speed": 11})).contains("\"speed\" must be between"));
        assert!(refused(serde_json::json!({"speed": "fast"})).contains("takes a number"));
        assert!(refused(serde_json::json!({"colour": "#000000"})).contains("no parameter named"));
        // A value the kind allows but the scene does not: the scene's own refusal.
        assert!(refused(serde_json::json!({"message": "Olé"})).contains("pixel font"));
    }

    #[test]
    fn a_template_must_declare_what_it_uses_and_use_what_it_declares() {
        let mut t = celebration();
        t.parameters.pop();
        assert!(t.check().is_err_and(|e| e.0.contains("not declared")));
        let mut t = celebration();
        t.parameters.push(Parameter::Text {
            name: "extra".into(),
            label: String::new(),
            default: String::new(),
        });
        assert!(t.check().is_err_and(|e| e.0.contains("no layer uses it")));
        let mut t = celebration();
        t.parameters.push(t.parameters[0].clone());
        assert!(t.check().is_err_and(|e| e.0.contains("declared twice")));
        let mut t = celebration();
        t.parameters[2] = Parameter::Number {
            name: "speed".into(),
            label: String::new(),
            default: 20.0,
            min: None,
            max: Some(10.0),
        };
        assert!(t.check().is_err_and(|e| e.0.contains("between")));
        let mut t = celebration();
        t.parameters[0] = Parameter::Color {
            name: "Home".into(),
            label: String::new(),
            default: Rgb::BLACK,
        };
        assert!(t.check().is_err_and(|e| e.0.contains("lower-case")));
    }

    #[test]
    fn an_asset_without_a_default_must_be_given() {
        let t: TemplateSpec = serde_json::from_value(serde_json::json!({
            "name": "Sponsor",
            "parameters": [{"kind": "asset", "name": "logo"}],
            "layers": [{"effect": "image", "asset": {"param": "logo"}, "fit": "contain"}]
        }))
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(t.check(), Ok(()));
        let missing = t.instantiate(&request(serde_json::json!({})));
        assert!(missing.is_err_and(|e| e.0.contains("no default")));
        let given = request(serde_json::json!({"logo": 7}));
        assert!(t.instantiate(&given).is_ok());
        assert_eq!(t.assets_in(&given), [AssetId(7)]);
    }
}
