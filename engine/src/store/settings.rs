//! System settings: small key/value pairs such as the grand master.

use super::schema::settings;
use super::{Store, StoreError, with_conn, with_read_conn};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

impl Store {
    /// A setting's value.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(settings::table
                .find(key)
                .select(settings::value)
                .first::<String>(conn)
                .await
                .optional()?)
        })
    }

    /// Store a setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::insert_into(settings::table)
                .values((settings::key.eq(key), settings::value.eq(value)))
                .on_conflict(settings::key)
                .do_update()
                .set(settings::value.eq(value))
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}
