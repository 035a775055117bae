//! The OpenAPI 3.1 document, generated from the route table: each route's
//! parameters, request body and the errors they can cause come from its handler's
//! extractors ([`Describe`]); its summary and answer come from its row in the
//! table. Error answers have one schema per status, listing exactly the codes that
//! status carries ([`ApiError::status_of`]).
//!
//! - [`reference`]: the browsable reference page, rendered here from the document.

pub mod reference;

use crate::auth::Auth;
use crate::body::{Json, OptionalJson};
use crate::error::ApiError;
use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use limelight_shared::error::ErrorCode;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Components, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr,
    Required,
};
use utoipa::{IntoParams, ToSchema};

/// Schemas by name, for the document's components.
pub type Schemas = BTreeMap<String, RefOr<Schema>>;

/// What a handler's extractors tell of its operation.
#[derive(Default)]
pub struct Op {
    /// Schema types of the path's parameters, in the order of the path template.
    path: Vec<Type>,
    /// Query and header parameters.
    params: Vec<Parameter>,
    body: Option<(RefOr<Schema>, bool)>,
    secured: bool,
    /// Error statuses the extractors can answer with.
    errors: BTreeSet<u16>,
    schemas: Schemas,
}

impl Op {
    /// A request header the handler reads.
    pub fn header(&mut self, name: &str, schema: RefOr<Schema>, description: &str) {
        self.params.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(schema))
                .build(),
        );
        self.errors.insert(422);
    }

    /// The `sort` query parameter takes one of `fields`, `-` in front for descending.
    pub fn sorts(&mut self, fields: &[&str]) {
        let values: Vec<String> = fields
            .iter()
            .flat_map(|f| [(*f).to_owned(), format!("-{f}")])
            .collect();
        for param in self.params.iter_mut().filter(|p| p.name == "sort") {
            param.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(values.clone()))
                    .into(),
            );
        }
    }

    /// A named type as a reference to its component, which is added.
    pub fn component<T: ToSchema>(&mut self) -> RefOr<Schema> {
        component::<T>(&mut self.schemas)
    }

    /// A type described in place (a generic page), with what it refers to added.
    pub fn inline<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut referenced = Vec::new();
        T::schemas(&mut referenced);
        self.schemas.extend(referenced);
        T::schema()
    }

    /// A list of a named type.
    pub fn list_of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        ArrayBuilder::new().items(self.component::<T>()).into()
    }
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Op")
            .field("secured", &self.secured)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

/// A named type as a reference to its component; adds it and what it refers to.
pub fn component<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    let mut referenced = Vec::new();
    T::schemas(&mut referenced);
    schemas.extend(referenced);
    schemas.insert(T::name().into_owned(), T::schema());
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// What an extractor adds to its handler's operation.
pub trait Describe {
    /// Add to `op` what this extractor reads and how it can refuse.
    fn describe(_op: &mut Op) {}
}

impl<T: ?Sized> Describe for web::Data<T> {}
impl Describe for HttpRequest {}
impl Describe for web::Payload {}

impl Describe for Auth {
    fn describe(op: &mut Op) {
        op.secured = true;
        op.errors.extend([401, 403, 429]);
    }
}

impl Describe for web::Path<i64> {
    fn describe(op: &mut Op) {
        op.path.push(Type::Integer);
        op.errors.insert(404);
    }
}

impl Describe for web::Path<String> {
    fn describe(op: &mut Op) {
        op.path.push(Type::String);
        op.errors.insert(404);
    }
}

impl Describe for web::Path<(i64, String)> {
    fn describe(op: &mut Op) {
        op.path.extend([Type::Integer, Type::String]);
        op.errors.insert(404);
    }
}

impl<T: IntoParams> Describe for web::Query<T> {
    fn describe(op: &mut Op) {
        op.params
            .extend(T::into_params(|| Some(ParameterIn::Query)));
        op.errors.insert(422);
    }
}

impl<T: ToSchema> Describe for Json<T> {
    fn describe(op: &mut Op) {
        let schema = op.component::<T>();
        op.body = Some((schema, true));
        op.errors.extend([400, 413, 415, 422]);
    }
}

impl<T: ToSchema> Describe for OptionalJson<T> {
    fn describe(op: &mut Op) {
        let schema = op.component::<T>();
        op.body = Some((schema, false));
        op.errors.extend([400, 413, 415, 422]);
    }
}

macro_rules! describe_tuple {
    ($($t:ident),*) => {
        impl<$($t: Describe),*> Describe for ($($t,)*) {
            fn describe(_op: &mut Op) {
                $($t::describe(_op);)*
            }
        }
    };
}
describe_tuple!();
describe_tuple!(A);
describe_tuple!(A, B);
describe_tuple!(A, B, C);
describe_tuple!(A, B, C, D);
describe_tuple!(A, B, C, D, E);
describe_tuple!(A, B, C, D, E, F);

/// A successful answer.
pub enum Answer {
    /// JSON of a schema, with this status.
    Json(u16, Box<RefOr<Schema>>),
    /// No body.
    Empty(u16, &'static str),
    /// A body of another content type.
    Other(u16, &'static str, &'static str),
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Json(status, _) => write!(f, "Json({status})"),
            Answer::Empty(status, _) => write!(f, "Empty({status})"),
            Answer::Other(status, kind, _) => write!(f, "Other({status}, {kind})"),
        }
    }
}

/// One route's documentation.
#[derive(Debug)]
pub struct Doc {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    pub(crate) operation_id: String,
    pub(crate) tag: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) op: Op,
    pub(crate) answer: Option<Answer>,
    /// Error statuses the handler itself can answer with, beyond its extractors'.
    pub(crate) errors: Vec<u16>,
    pub(crate) example: Option<serde_json::Value>,
    /// Where what a creating route makes lives, when not below its own path (a
    /// session is made below its event and lives at `/api/v1/sessions/{id}`).
    pub(crate) creates: Option<&'static str>,
}

impl Doc {
    /// Documentation with what the handler's extractors tell.
    pub fn new<Args: Describe>(method: Method, path: &'static str, handler: &str) -> Self {
        let mut op = Op::default();
        Args::describe(&mut op);
        // `limelight_api::routes::canvases::create` -> `canvases.create`
        let mut parts = handler.rsplit("::");
        let name = parts.next().unwrap_or(handler);
        let module = parts.next().unwrap_or("api");
        Self {
            method,
            path,
            operation_id: format!("{module}.{name}"),
            tag: "",
            summary: "",
            op,
            answer: None,
            errors: Vec::new(),
            example: None,
            creates: None,
        }
    }
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        Method::TRACE => HttpMethod::Trace,
        _ => HttpMethod::Get,
    }
}

/// Links from a creating route at `path` to every route of what it made, which
/// lives at `made` (`made/{x}...` or `made/...`): the new `id` from the answer goes
/// to the first parameter after `made`, the others come from the request's path.
fn links(
    path: &str,
    made: &str,
    routes: &[(&'static str, String)],
) -> Vec<(String, utoipa::openapi::link::Link)> {
    let known = path_names(path);
    routes
        .iter()
        .filter_map(|(target, operation_id)| {
            let rest = target.strip_prefix(made)?.strip_prefix('/')?;
            let new_id = rest.starts_with('{').then(|| path_names(rest)[0]);
            let mut link = utoipa::openapi::link::LinkBuilder::new().operation_id(operation_id);
            let names = path_names(target);
            if names.is_empty() {
                return None;
            }
            for name in names {
                let value = if Some(name) == new_id {
                    "$response.body#/id".to_owned()
                } else if known.contains(&name) {
                    format!("$request.path.{name}")
                } else {
                    return None;
                };
                link = link.parameter(name, value);
            }
            Some((operation_id.clone(), link.build()))
        })
        .collect()
}

/// Names of the `{…}` parameters of a path template, in order.
fn path_names(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// The error schema of one status: the body every error has, with `code` limited
/// to the codes that status carries.
fn error_schema(status: u16) -> RefOr<Schema> {
    let codes: Vec<String> = ErrorCode::ALL
        .iter()
        .filter(|c| ApiError::status_of(**c).as_u16() == status)
        .filter_map(|c| serde_json::to_value(c).ok()?.as_str().map(str::to_owned))
        .collect();
    ObjectBuilder::new()
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes))
                .description(Some("What went wrong, for programs")),
        )
        .required("code")
        .property(
            "message",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("What went wrong, for people")),
        )
        .required("message")
        .property(
            "request_id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The request's X-Request-Id")),
        )
        .description(Some(format!("An error answered with status {status}")))
        .into()
}

/// Statuses every operation may answer with, whatever it reads.
const ALWAYS: [u16; 2] = [500, 503];
/// Statuses of every change: what it names may be gone, or the change may conflict
/// with the state of things.
const WRITES: [u16; 2] = [404, 409];
/// Tags whose operations are rate limited per user or refuse a slow consumer.
const LIMITED: [&str; 3] = ["bookings", "rooms", "waitlists"];

/// The whole document for these routes.
pub fn document(docs: Vec<Doc>) -> OpenApi {
    let routes: Vec<(&'static str, String)> = docs
        .iter()
        .map(|d| (d.path, d.operation_id.clone()))
        .collect();
    let mut schemas = Schemas::new();
    let mut statuses = BTreeSet::new();
    let mut paths = PathsBuilder::new();
    for doc in docs {
        let Doc {
            method,
            path,
            operation_id,
            tag,
            summary,
            mut op,
            answer,
            errors,
            example,
            creates,
        } = doc;
        let mut operation = OperationBuilder::new()
            .operation_id(Some(operation_id))
            .tag(tag)
            .summary(Some(summary));
        for (name, kind) in path_names(path).into_iter().zip(op.path.iter()) {
            let mut schema = ObjectBuilder::new().schema_type(kind.clone());
            if *kind == Type::Integer {
                schema = schema.format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )));
            }
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(schema)),
            );
        }
        for parameter in op.params.drain(..) {
            operation = operation.parameter(parameter);
        }
        if let Some((schema, required)) = op.body.take() {
            let content = ContentBuilder::new()
                .schema(Some(schema))
                .example(example)
                .build();
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", content)
                    .required(Some(if required {
                        Required::True
                    } else {
                        Required::False
                    }))
                    .build(),
            ));
        }
        if op.secured {
            operation =
                operation.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        operation = match answer {
            Some(Answer::Json(status, schema)) => {
                let mut response = ResponseBuilder::new().description("Done").content(
                    "application/json",
                    ContentBuilder::new().schema(Some(*schema)).build(),
                );
                if status == 201 {
                    for (name, link) in links(path, creates.unwrap_or(path), &routes) {
                        response = response.link(name, link);
                    }
                }
                operation.response(status.to_string(), response)
            }
            Some(Answer::Empty(status, what)) => {
                operation.response(status.to_string(), ResponseBuilder::new().description(what))
            }
            Some(Answer::Other(status, content_type, what)) => operation.response(
                status.to_string(),
                ResponseBuilder::new().description(what).content(
                    content_type,
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                ),
            ),
            None => operation,
        };
        let writes: &[u16] = if method == Method::GET { &[] } else { &WRITES };
        let limited: &[u16] = if LIMITED.contains(&tag) { &[429] } else { &[] };
        let refusals: BTreeSet<u16> = op
            .errors
            .iter()
            .chain(&errors)
            .chain(&ALWAYS)
            .chain(writes)
            .chain(limited)
            .copied()
            .filter(|s| has_codes(*s))
            .collect();
        for status in refusals {
            statuses.insert(status);
            operation = operation.response(
                status.to_string(),
                ResponseBuilder::new().description(reason(status)).content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(Ref::from_schema_name(format!(
                            "Error{status}"
                        )))))
                        .build(),
                ),
            );
        }
        schemas.append(&mut op.schemas);
        paths = paths.path(
            path,
            utoipa::openapi::PathItem::new(http_method(&method), operation.build()),
        );
        // `path` adds a new item per call; operations of one path are merged below.
    }
    for status in statuses {
        schemas.insert(format!("Error{status}"), error_schema(status));
    }
    let mut components = Components::new();
    components.schemas = schemas;
    components.security_schemes.insert(
        "bearer".into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("A token from POST /api/v1/auth/login or /auth/signup"))
                .build(),
        )),
    );
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Limelight")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Show control for a venue's LED canvases, and the live side of its events. \
                     Every error is {code, message, request_id}; each status lists its codes.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

/// The document as JSON, with what the schema derive writes loosely made exact:
///
/// - each `#[serde(flatten)]` (written as `allOf` of the flattened type and the
///   rest) is merged into one object: the flattened types refuse unknown fields,
///   so under `allOf` each would refuse the other's;
/// - each variant of an internally tagged enum (a `oneOf` of objects told apart by
///   a one-value tag) is closed: serde reads and writes exactly its fields.
pub fn to_json(doc: &OpenApi) -> serde_json::Result<serde_json::Value> {
    let mut value = serde_json::to_value(doc)?;
    let components = value["components"]["schemas"].clone();
    merge_flattened(&mut value, &components);
    close_tagged(&mut value);
    Ok(value)
}

fn close_tagged(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(variants)) = map.get_mut("oneOf") {
                let tagged = |v: &Value| {
                    v["properties"].as_object().is_some_and(|props| {
                        props.iter().any(|(name, p)| {
                            p["enum"].as_array().is_some_and(|e| e.len() == 1)
                                && v["required"]
                                    .as_array()
                                    .is_some_and(|r| r.iter().any(|n| n == name))
                        })
                    })
                };
                if !variants.is_empty() && variants.iter().all(tagged) {
                    for v in variants.iter_mut() {
                        if let Some(obj) = v.as_object_mut() {
                            obj.entry("additionalProperties")
                                .or_insert(Value::Bool(false));
                        }
                    }
                }
            }
            map.values_mut().for_each(close_tagged);
        }
        Value::Array(items) => items.iter_mut().for_each(close_tagged),
        _ => {}
    }
}

fn merge_flattened(value: &mut serde_json::Value, components: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                merge_flattened(v, components);
            }
            let Some(Value::Array(parts)) = map.get("allOf") else {
                return;
            };
            let mut properties = serde_json::Map::new();
            let mut required: Vec<Value> = Vec::new();
            let mut closed = false;
            for part in parts {
                let part = match part["$ref"].as_str() {
                    Some(r) => {
                        let mut target =
                            components[r.rsplit('/').next().unwrap_or_default()].clone();
                        merge_flattened(&mut target, components);
                        target
                    }
                    None => part.clone(),
                };
                let Some(props) = part["properties"].as_object() else {
                    // Not a plain object: leave the allOf as it is.
                    return;
                };
                properties.extend(props.clone());
                closed |= part["additionalProperties"] == false;
                for name in part["required"].as_array().into_iter().flatten() {
                    if !required.contains(name) {
                        required.push(name.clone());
                    }
                }
            }
            map.remove("allOf");
            map.insert("type".into(), Value::from("object"));
            map.insert("properties".into(), Value::Object(properties));
            map.insert("required".into(), Value::Array(required));
            if closed {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
        }
        Value::Array(items) => {
            for v in items {
                merge_flattened(v, components);
            }
        }
        _ => {}
    }
}

/// Whether any error code answers with `status`.
fn has_codes(status: u16) -> bool {
    ErrorCode::ALL
        .iter()
        .any(|c| ApiError::status_of(*c).as_u16() == status)
}

fn reason(status: u16) -> &'static str {
    actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Refused")
}
