//! JSON Schemas (with the `openapi` feature) of the wire types whose JSON is not
//! their Rust shape: validated numbers and strings, and types with hand-written
//! serde. Every other wire type derives its schema.

#[cfg(feature = "openapi")]
pub(crate) use build::*;

#[cfg(feature = "openapi")]
mod build {
    use std::borrow::Cow;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
    };

    /// A schema, or a reference to one.
    pub(crate) type Part = RefOr<Schema>;
    /// Named fields of an object.
    pub(crate) type Fields = Vec<(&'static str, Part)>;
    /// One way of writing a value: its description, required and optional fields.
    pub(crate) type Variant = (&'static str, Fields, Fields);

    /// A calendar date, `YYYY-MM-DD`.
    pub(crate) fn date() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .into()
    }

    /// An integer between `min` and `max`.
    pub(crate) fn integer(min: i64, max: i64) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min))
            .maximum(Some(max))
            .into()
    }

    /// A number between `min` and `max`.
    pub(crate) fn number(min: f64, max: f64) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(min))
            .maximum(Some(max))
            .into()
    }

    /// Exactly `len` numbers between `min` and `max`.
    pub(crate) fn numbers(len: usize, min: f64, max: f64, description: &str) -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(number(min, max))
            .min_items(Some(len))
            .max_items(Some(len))
            .description(Some(description))
            .into()
    }

    /// What Rust's `char::is_whitespace` is, as a regex class body.
    const WHITESPACE: &str = r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
    /// What Rust's `char::is_control` is, as a regex class body.
    const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

    /// How a text may be written.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Form {
        /// Any characters.
        Any,
        /// No leading or trailing whitespace.
        Trimmed,
        /// Trimmed, and no control characters.
        Line,
        /// Any characters, at least one of them not whitespace (what is kept
        /// once trimmed).
        Visible,
    }

    /// Text of `min` to `max` characters, written in `form`.
    pub(crate) fn text(min: usize, max: usize, form: Form) -> RefOr<Schema> {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(min))
            .max_length(Some(max));
        let pattern = match form {
            Form::Any => None,
            Form::Visible => Some(format!("[^{WHITESPACE}]")),
            Form::Trimmed => Some(format!(r"^[^{WHITESPACE}]([\s\S]*[^{WHITESPACE}])?$")),
            Form::Line => Some(format!(
                "^[^{WHITESPACE}{CONTROL}]([^{CONTROL}]*[^{WHITESPACE}{CONTROL}])?$"
            )),
        };
        schema.pattern(pattern).into()
    }

    /// A name of 1 to `max` letters, digits, `-`, `_`, `.` and inner spaces.
    pub(crate) fn short_name(max: usize) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(max))
            .pattern(Some(r"^[\w.-]([\w .-]*[\w.-])?$"))
            .into()
    }

    /// An IANA time zone name.
    pub(crate) fn time_zone() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
            .description(Some("An IANA time zone, e.g. Europe/Paris"))
            .into()
    }

    /// `{"quantity": n}` or `{"seats": [...]}`, exactly one of them.
    pub(crate) fn place_request(max: u32) -> RefOr<Schema> {
        let quantity = ObjectBuilder::new()
            .property(
                "quantity",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(max)),
            )
            .required("quantity")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let seats = ObjectBuilder::new()
            .property(
                "seats",
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1)),
                    )
                    .min_items(Some(1))
                    .max_items(Some(max as usize))
                    .unique_items(true),
            )
            .required("seats")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        OneOfBuilder::new()
            .item(quantity)
            .item(seats)
            .description(Some(
                "Places of general admission, or named seats of a seated session",
            ))
            .into()
    }

    /// `{"status": "open"}` or `{"status": "closed"}`.
    pub(crate) fn poll_status_change() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["open", "closed"])),
            )
            .required("status")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }

    /// A string matching `pattern`.
    pub(crate) fn pattern(pattern: &str, description: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .description(Some(description))
            .into()
    }

    /// `"all"` or a non-empty list of distinct canvas ids.
    pub(crate) fn targets() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["all"])),
            )
            .item(
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                                utoipa::openapi::KnownFormat::Int64,
                            )))
                            .minimum(Some(1))
                            .maximum(Some(i64::MAX)),
                    )
                    .min_items(Some(1))
                    .unique_items(true),
            )
            .description(Some("Every canvas (\"all\") or these canvas ids"))
            .into()
    }

    /// `"next_change"`, `"until_released"` or `{"for_s": 1..=max_s}`.
    pub(crate) fn override_scope(max_s: u32) -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["next_change", "until_released"])),
            )
            .item(
                ObjectBuilder::new()
                    .property(
                        "for_s",
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1))
                            .maximum(Some(max_s)),
                    )
                    .required("for_s")
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
            )
            .description(Some("How long a manual override lasts"))
            .into()
    }

    /// A reference to the named schema of `T`.
    pub(crate) fn of<T: utoipa::ToSchema>() -> RefOr<Schema> {
        utoipa::openapi::Ref::from_schema_name(T::name()).into()
    }

    /// `schema`, or `null` (read as absent).
    pub(crate) fn or_null(schema: impl Into<RefOr<Schema>>) -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(schema)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    }

    /// One closed object per way of saying something: each variant lists its own
    /// fields (`required` and `optional`); the fields of the other variants may
    /// only be `null`. `shared` fields (required) are in every variant.
    pub(crate) fn exclusive(
        description: &str,
        shared: &[(&str, Part)],
        variants: &[Variant],
    ) -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new().description(Some(description));
        for (i, (what, required, optional)) in variants.iter().enumerate() {
            let mut object = ObjectBuilder::new().description(Some(*what));
            for (name, schema) in shared.iter().chain(required) {
                object = object.property(*name, schema.clone()).required(*name);
            }
            for (name, schema) in optional {
                object = object.property(*name, or_null(schema.clone()));
            }
            let others = variants
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, (_, r, o))| r.iter().chain(o).map(|(name, _)| *name));
            for name in others {
                let own = required.iter().chain(optional).any(|(n, _)| *n == name);
                if !own {
                    object = object.property(name, ObjectBuilder::new().schema_type(Type::Null));
                }
            }
            one_of = one_of
                .item(object.additional_properties(Some(AdditionalProperties::FreeForm(false))));
        }
        one_of.into()
    }

    /// A cue number: its text, or a number (read as its text).
    pub(crate) fn cue_number() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[A-Za-z0-9._-]{1,16}$")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(-1e9))
                    .maximum(Some(1e9))
                    .multiple_of(Some(0.001)),
            )
            .description(Some("A cue number such as \"1\", \"1.5\" or \"12A\""))
            .into()
    }

    /// A schema's name, as the derive would give it.
    pub(crate) fn name(name: &'static str) -> Cow<'static, str> {
        Cow::Borrowed(name)
    }
}

/// Give `$ty` the schema `$schema` under its own name.
macro_rules! schema {
    ($ty:ty, $name:expr, $schema:expr) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                $crate::openapi::name($name)
            }
        }
    };
}
pub(crate) use schema;

/// Give `$ty` the schema `$schema` under its own name; it refers to the named
/// schemas of `$refers` (added to the document with it).
macro_rules! schema_with {
    ($ty:ty, $name:expr, $schema:expr, [$($refers:ty),* $(,)?]) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                $crate::openapi::name($name)
            }

            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                $(
                    schemas.push((
                        <$refers as utoipa::ToSchema>::name().into_owned(),
                        <$refers as utoipa::PartialSchema>::schema(),
                    ));
                    <$refers as utoipa::ToSchema>::schemas(schemas);
                )*
            }
        }
    };
}
pub(crate) use schema_with;
