//! Tokens ended by logging out, kept until they would have expired anyway.

use super::schema::revoked_tokens;
use super::{Store, StoreError, with_conn, with_read_conn};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

impl Store {
    /// End the token `id` (its `jti`), which expires at `expires_at` (UTC). Ending
    /// one twice is the same as once.
    pub async fn revoke_token(
        &self,
        id: &str,
        expires_at: chrono::NaiveDateTime,
    ) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::insert_into(revoked_tokens::table)
                .values((
                    revoked_tokens::id.eq(id),
                    revoked_tokens::expires_at.eq(expires_at),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// Every ended token that has not expired yet, with when it expires; the
    /// expired ones are forgotten first.
    pub async fn revoked_tokens(&self) -> Result<Vec<(String, chrono::NaiveDateTime)>, StoreError> {
        let now = super::now();
        with_conn!(self, |conn| {
            diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.le(now)))
                .execute(conn)
                .await?;
            Ok::<(), StoreError>(())
        })?;
        with_read_conn!(self, |conn| {
            Ok(revoked_tokens::table
                .select((revoked_tokens::id, revoked_tokens::expires_at))
                .load::<(String, chrono::NaiveDateTime)>(conn)
                .await?)
        })
    }
}
