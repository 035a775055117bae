//! JSON Schemas (with the `openapi` feature) of the wire types whose JSON is not
//! their Rust shape: validated numbers and strings, and types with hand-written
//! serde. Every other wire type derives its schema.

#[cfg(feature = "openapi")]
pub(crate) use build::*;

#[cfg(feature = "openapi")]
mod build {
    use std::borrow::Cow;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};

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
                            .minimum(Some(1)),
                    )
                    .min_items(Some(1))
                    .unique_items(true),
            )
            .description(Some("Every canvas (\"all\") or these canvas ids"))
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

/// Give `$ty` the schema of `$proxy`, the shape serde reads and writes it through.
macro_rules! schema_as {
    ($ty:ty, $name:expr, $proxy:ty) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <$proxy as utoipa::PartialSchema>::schema()
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
                <$proxy as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}
pub(crate) use schema_as;
