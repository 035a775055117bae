//! Accounts: login, the user list and the first admin.

use super::*;
use crate::AccountError;

impl EngineHandle {
    /// Check a login; the user if name and password match.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<User, EngineError> {
        let record = self.inner.store.user_by_name(username).await?;
        // Verify against a dummy hash when the user is unknown, so timing does not
        // tell which user names exist.
        let hash = record.as_ref().map_or_else(
            || "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2ymr6sUSPhx4oDOPrzy4Pn2M4mKCQ9EyQiJPNeXTPQU".to_owned(),
            |r| r.password_hash.clone(),
        );
        let ok = users::verify_password(password.to_owned(), hash).await;
        match record {
            Some(r) if ok => user_dto(&r),
            _ => Err(EngineError::Accounts(AccountError::BadCredentials)),
        }
    }

    /// The principal of a user id, if already known: no database trip. A user
    /// changed or deleted through this engine is unknown until read again.
    pub fn known_principal(&self, id: UserId) -> Option<Principal> {
        self.inner.principals.get(id)
    }

    /// The principal of a user id (for token checks): from memory when known, else
    /// read and remembered. A deleted user's tokens stop working at once.
    pub async fn principal(&self, id: UserId) -> Result<Principal, EngineError> {
        if let Some(known) = self.inner.principals.get(id) {
            return Ok(known);
        }
        let generation = self.inner.principals.generation();
        let user = self.user(id).await?;
        let principal = Principal {
            id: user.id,
            username: user.username,
            role: user.role,
            approver: user.approver,
        };
        self.inner
            .principals
            .remember(generation, principal.clone());
        Ok(principal)
    }

    /// A user by id.
    pub async fn user(&self, id: UserId) -> Result<User, EngineError> {
        let record = self.inner.store.user(id.0).await?;
        record
            .as_ref()
            .map(user_dto)
            .transpose()?
            .ok_or(EngineError::Accounts(AccountError::UnknownUser(id)))
    }

    /// All users.
    pub async fn list_users(&self) -> Result<Vec<User>, EngineError> {
        self.inner
            .store
            .list_users()
            .await?
            .iter()
            .map(user_dto)
            .collect()
    }

    /// Add a user.
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<User, EngineError> {
        users::validate_username(username)?;
        users::validate_password(password)?;
        let hash = users::hash_password(password.to_owned()).await?;
        let record = self
            .inner
            .store
            .insert_user(username, &hash, role.as_str())
            .await?;
        user_dto(&record)
    }

    /// Change a user's password and/or role. The last admin cannot be demoted.
    pub async fn update_user(
        &self,
        id: UserId,
        password: Option<&str>,
        role: Option<Role>,
        approver: Option<bool>,
    ) -> Result<User, EngineError> {
        let current = self.user(id).await?;
        if current.role == Role::Admin && role.is_some_and(|r| r != Role::Admin) {
            self.ensure_other_admin().await?;
        }
        let hash = match password {
            Some(p) => {
                users::validate_password(p)?;
                Some(users::hash_password(p.to_owned()).await?)
            }
            None => None,
        };
        let record = self
            .inner
            .store
            .update_user(id.0, hash.as_deref(), role.map(Role::as_str), approver)
            .await?
            .ok_or(EngineError::Accounts(AccountError::UnknownUser(id)))?;
        self.inner.principals.forget(id);
        user_dto(&record)
    }

    /// Remove a user. The last admin cannot be removed.
    pub async fn delete_user(&self, id: UserId) -> Result<(), EngineError> {
        if self.user(id).await?.role == Role::Admin {
            self.ensure_other_admin().await?;
        }
        let deleted = self.inner.store.delete_user(id.0).await?;
        self.inner.principals.forget(id);
        if deleted {
            Ok(())
        } else {
            Err(EngineError::Accounts(AccountError::UnknownUser(id)))
        }
    }

    async fn ensure_other_admin(&self) -> Result<(), EngineError> {
        if self.inner.store.count_role(Role::Admin.as_str()).await? <= 1 {
            return Err(AccountError::LastAdmin.into());
        }
        Ok(())
    }

    /// Create the first admin if there is no user at all; returns the password it
    /// was given when it had to be generated.
    pub async fn ensure_admin(
        &self,
        password: Option<&str>,
    ) -> Result<Option<String>, EngineError> {
        if !self.inner.store.list_users().await?.is_empty() {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(p) => (p.to_owned(), false),
            None => (users::generate_password(), true),
        };
        self.create_user("admin", &password, Role::Admin).await?;
        Ok(generated.then_some(password))
    }

    /// End token `id` (its `jti`), which expires at `expires_at`: stored first, so
    /// a restart and the other nodes know it too.
    pub async fn revoke_token(
        &self,
        id: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), EngineError> {
        self.inner
            .store
            .revoke_token(id, expires_at.naive_utc())
            .await?;
        self.inner.revoked.insert(id.to_owned(), expires_at);
        Ok(())
    }

    /// Whether token `id` was ended by logging out, from memory. When what is in
    /// memory is stale, the stored list is read again in the background (so a
    /// logout on another node applies here within a few seconds).
    pub fn token_revoked(&self, id: &str) -> bool {
        if self.inner.revoked.begin_read() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let handle = self.clone();
                    runtime.spawn(async move {
                        if let Err(e) = handle.read_revoked_tokens_now().await {
                            tracing::warn!(error = %e, "cannot read the ended tokens");
                        }
                    });
                }
                Err(_) => self.inner.revoked.read_failed(),
            }
        }
        self.inner.revoked.contains(id)
    }

    /// Read the ended tokens from the store (at start).
    pub(super) async fn read_revoked_tokens(&self) -> Result<(), EngineError> {
        if self.inner.revoked.begin_read() {
            self.read_revoked_tokens_now().await?;
        }
        Ok(())
    }

    async fn read_revoked_tokens_now(&self) -> Result<(), EngineError> {
        match self.inner.store.revoked_tokens().await {
            Ok(stored) => {
                self.inner
                    .revoked
                    .replace(stored.into_iter().map(|(id, at)| (id, at.and_utc())));
                Ok(())
            }
            Err(e) => {
                self.inner.revoked.read_failed();
                Err(e.into())
            }
        }
    }
}
