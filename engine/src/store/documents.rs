//! Tables of named JSON documents: rows of `id`, a unique `name`, the document as
//! `spec`, `created_at` and `updated_at`. One macro writes the record type and its
//! queries for each such table, so they cannot drift apart.

/// The record type `$record` of table `$table` and its queries on `Store`; `$noun`
/// names one row in conflict messages.
macro_rules! named_documents {
    (
        $(#[$doc:meta])*
        $record:ident in $table:ident, $noun:literal:
        insert $insert:ident, update $update:ident, list $list:ident, get $get:ident,
        delete $delete:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, diesel::Queryable, diesel::Selectable)]
        #[diesel(table_name = $crate::store::schema::$table)]
        pub struct $record {
            /// Row id.
            pub id: i64,
            /// Unique name.
            pub name: String,
            /// The document as JSON.
            pub spec: String,
            /// Creation time (UTC).
            pub created_at: chrono::NaiveDateTime,
            /// Last change (UTC).
            pub updated_at: chrono::NaiveDateTime,
        }

        impl $crate::store::Store {
            #[doc = concat!("Add a ", $noun, ".")]
            pub async fn $insert(
                &self,
                name: &str,
                spec: &str,
            ) -> Result<$record, $crate::store::StoreError> {
                use $crate::store::schema::$table::dsl as t;
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                let now = $crate::store::now();
                let row = (
                    t::name.eq(name),
                    t::spec.eq(spec),
                    t::created_at.eq(now),
                    t::updated_at.eq(now),
                );
                $crate::store::with_conn!(self, |conn| {
                    diesel::insert_into(t::$table)
                        .values(row)
                        .returning($record::as_returning())
                        .get_result(conn)
                        .await
                        .map_err($crate::store::conflict(format!(
                            concat!("a ", $noun, " named {:?} exists"),
                            name
                        )))
                })
            }

            #[doc = concat!("Replace a ", $noun, "; `None` when there is no such row.")]
            pub async fn $update(
                &self,
                id: i64,
                name: &str,
                spec: &str,
            ) -> Result<Option<$record>, $crate::store::StoreError> {
                use $crate::store::schema::$table::dsl as t;
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                $crate::store::with_conn!(self, |conn| {
                    diesel::update(t::$table.find(id))
                        .set((
                            t::name.eq(name),
                            t::spec.eq(spec),
                            t::updated_at.eq($crate::store::now()),
                        ))
                        .returning($record::as_returning())
                        .get_result(conn)
                        .await
                        .optional()
                        .map_err($crate::store::conflict(format!(
                            concat!("a ", $noun, " named {:?} exists"),
                            name
                        )))
                })
            }

            #[doc = concat!("Every ", $noun, " by id.")]
            pub async fn $list(&self) -> Result<Vec<$record>, $crate::store::StoreError> {
                use $crate::store::schema::$table::dsl as t;
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                $crate::store::with_read_conn!(self, |conn| {
                    Ok(t::$table
                        .order(t::id)
                        .select($record::as_select())
                        .load(conn)
                        .await?)
                })
            }

            #[doc = concat!("A ", $noun, " by id.")]
            pub async fn $get(
                &self,
                id: i64,
            ) -> Result<Option<$record>, $crate::store::StoreError> {
                use $crate::store::schema::$table::dsl as t;
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                $crate::store::with_read_conn!(self, |conn| {
                    Ok(t::$table
                        .find(id)
                        .select($record::as_select())
                        .first(conn)
                        .await
                        .optional()?)
                })
            }

            #[doc = concat!("Remove a ", $noun, "; whether one was removed.")]
            pub async fn $delete(&self, id: i64) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::schema::$table::dsl as t;
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                $crate::store::with_conn!(self, |conn| {
                    Ok(diesel::delete(t::$table.find(id)).execute(conn).await? > 0)
                })
            }
        }
    };
}
pub(crate) use named_documents;
