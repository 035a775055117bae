//! User accounts.

use super::schema::users;
use super::{Store, StoreError, conflict, with_conn, with_read_conn};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A stored user.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRecord {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub username: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// `admin`, `operator` or `marketing`.
    pub role: String,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// May approve content without being an admin.
    pub approver: bool,
}

impl Store {
    /// Add a user.
    pub async fn insert_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<UserRecord, StoreError> {
        let row = (
            users::username.eq(username),
            users::password_hash.eq(password_hash),
            users::role.eq(role),
            users::created_at.eq(super::now()),
        );
        with_conn!(self, |conn| {
            diesel::insert_into(users::table)
                .values(row)
                .returning(UserRecord::as_returning())
                .get_result(conn)
                .await
                .map_err(conflict(format!("a user named {username:?} exists")))
        })
    }

    /// All users by name.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(users::table
                .order(users::username)
                .select(UserRecord::as_select())
                .load(conn)
                .await?)
        })
    }

    /// A user by id.
    pub async fn user(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(users::table
                .find(id)
                .select(UserRecord::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// A user by name.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(users::table
                .filter(users::username.eq(username))
                .select(UserRecord::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Change a user's password hash and/or role; `None` when there is no such user.
    pub async fn update_user(
        &self,
        id: i64,
        password_hash: Option<&str>,
        role: Option<&str>,
        approver: Option<bool>,
    ) -> Result<Option<UserRecord>, StoreError> {
        with_conn!(self, |conn| {
            if let Some(approver) = approver {
                diesel::update(users::table.find(id))
                    .set(users::approver.eq(approver))
                    .execute(conn)
                    .await?;
            }
            if let Some(hash) = password_hash {
                diesel::update(users::table.find(id))
                    .set(users::password_hash.eq(hash))
                    .execute(conn)
                    .await?;
            }
            if let Some(role) = role {
                diesel::update(users::table.find(id))
                    .set(users::role.eq(role))
                    .execute(conn)
                    .await?;
            }
            Ok(users::table
                .find(id)
                .select(UserRecord::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Remove a user; whether one was removed.
    pub async fn delete_user(&self, id: i64) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::delete(users::table.find(id)).execute(conn).await? > 0)
        })
    }

    /// How many users have `role`.
    pub async fn count_role(&self, role: &str) -> Result<i64, StoreError> {
        with_conn!(self, |conn| {
            Ok(users::table
                .filter(users::role.eq(role))
                .count()
                .get_result(conn)
                .await?)
        })
    }
}
