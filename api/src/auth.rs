//! Authentication (JWT bearer tokens, HS256). Who may do what is the engine's
//! permission table (`Permission`), re-exported here for the handlers.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
pub use limelight_engine::Permission;
use limelight_engine::{EngineHandle, Principal};
use limelight_shared::error::ErrorCode;
use limelight_shared::ids::UserId;
use serde::{Deserialize, Serialize};
use std::future::{Future, ready};
use std::pin::Pin;

/// Claims carried by a token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// User id, as a string (JWT's `sub` is a string).
    sub: String,
    /// User name at issue time.
    name: String,
    /// Issued at (seconds since the epoch).
    iat: i64,
    /// Expires at (seconds since the epoch).
    exp: i64,
    /// The token's own id, by which logging out ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Its user.
    pub user: UserId,
    /// Its id (tokens issued before ids were given have none).
    pub id: Option<String>,
    /// When it expires.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Issues and checks tokens.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: chrono::Duration,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("ttl", &self.ttl).finish()
    }
}

impl Tokens {
    /// Tokens signed with `secret`, valid for `ttl_minutes`.
    pub fn new(secret: &[u8], ttl_minutes: u32) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl: chrono::Duration::minutes(i64::from(ttl_minutes)),
        }
    }

    /// A token for `user`, and when it expires.
    pub fn issue(
        &self,
        id: UserId,
        name: &str,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>), ApiError> {
        let now = chrono::Utc::now();
        let expires = now + self.ttl;
        let claims = Claims {
            sub: id.0.to_string(),
            name: name.to_owned(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            jti: Some(uuid::Uuid::new_v4().to_string()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| {
            tracing::error!(error = %e, "cannot sign a token");
            ApiError::new(ErrorCode::Internal, "internal error; see the server log")
        })?;
        Ok((token, expires))
    }

    /// What a valid, unexpired token says (whether it was ended is not asked).
    fn verify(&self, token: &str) -> Result<Verified, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::new(ErrorCode::TokenExpired, "token has expired; log in again")
                }
                _ => ApiError::new(ErrorCode::Unauthorized, "token is not valid"),
            })
            .and_then(|data| {
                let invalid = || ApiError::new(ErrorCode::Unauthorized, "token is not valid");
                let user = data.claims.sub.parse().map(UserId).map_err(|_| invalid())?;
                let expires_at =
                    chrono::DateTime::from_timestamp(data.claims.exp, 0).ok_or_else(invalid)?;
                Ok(Verified {
                    user,
                    id: data.claims.jti,
                    expires_at,
                })
            })
    }

    /// What a valid, unexpired token that was not ended by logging out says.
    pub fn check(&self, engine: &EngineHandle, token: &str) -> Result<Verified, ApiError> {
        let verified = self.verify(token)?;
        if verified
            .id
            .as_deref()
            .is_some_and(|id| engine.token_revoked(id))
        {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "this token was ended by logging out; log in again",
            ));
        }
        Ok(verified)
    }

    /// The principal a token stands for. A deleted user's tokens stop working and
    /// a role change applies at once (the engine forgets a changed user).
    pub async fn principal(
        &self,
        engine: &EngineHandle,
        token: &str,
    ) -> Result<Principal, ApiError> {
        let id = self.check(engine, token)?.user;
        engine.principal(id).await.map_err(refused)
    }
}

/// A token whose user cannot be had. A store failure is logged, not told.
fn refused(e: limelight_engine::EngineError) -> ApiError {
    if !matches!(
        e,
        limelight_engine::EngineError::Accounts(limelight_engine::AccountError::UnknownUser(_))
    ) {
        tracing::warn!(error = %e, "cannot look up a token's user");
    }
    ApiError::new(ErrorCode::Unauthorized, "token is not valid")
}

/// The bearer token of a request, if any.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// An authenticated request. Handlers call [`Auth::require`] for their permission.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl Auth {
    /// Whether the caller sees only what is published (an attendee).
    pub fn published_only(&self) -> bool {
        !self.0.is_staff()
    }

    /// The principal, if its role has `permission`.
    pub fn require(&self, permission: Permission) -> Result<&Principal, ApiError> {
        if self.0.may(permission) {
            Ok(&self.0)
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "role {} may not do this ({permission:?} is needed)",
                    self.0.role.as_str()
                ),
            ))
        }
    }
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (Some(tokens), Some(engine)) = (
            req.app_data::<web::Data<Tokens>>(),
            req.app_data::<web::Data<EngineHandle>>(),
        ) else {
            return Box::pin(ready(Err(ApiError::new(
                ErrorCode::Internal,
                "authentication is not set up",
            ))));
        };
        let Some(token) = bearer(req) else {
            return Box::pin(ready(Err(ApiError::new(
                ErrorCode::Unauthorized,
                "an Authorization: Bearer token is needed",
            ))));
        };
        let id = match tokens.check(engine, token) {
            Ok(verified) => verified.user,
            Err(e) => return Box::pin(ready(Err(e))),
        };
        // Emergency, blackout and panic are never refused by a limit.
        let limits = (!crate::limits::exempt(req.path()))
            .then(|| req.app_data::<web::Data<crate::limits::Limits>>().cloned())
            .flatten();
        let spend = move |principal: Principal| async move {
            match &limits {
                Some(limits) => limits
                    .rest(principal.id.0, principal.role)
                    .await
                    .map(|()| Auth(principal))
                    .map_err(|refused| refused.error()),
                None => Ok(Auth(principal)),
            }
        };
        if let Some(known) = engine.known_principal(id) {
            return Box::pin(spend(known));
        }
        let engine = engine.clone();
        Box::pin(async move {
            // Its own task: if another extractor of the request fails first, this
            // future is dropped, and a database query must never be cut off midway.
            let lookup = async move { engine.principal(id).await };
            let principal = actix_web::rt::spawn(lookup)
                .await
                .map_err(|_| {
                    ApiError::new(ErrorCode::Internal, "internal error; see the server log")
                })?
                .map_err(refused)?;
            spend(principal).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_another_secret_or_expired_are_refused() -> Result<(), ApiError> {
        let tokens = Tokens::new(b"one secret that is long enough", 5);
        let (token, _) = tokens.issue(UserId(7), "ops")?;
        let verified = tokens.verify(&token)?;
        assert_eq!(verified.user, UserId(7));
        let (again, _) = tokens.issue(UserId(7), "ops")?;
        assert!(verified.id.is_some() && verified.id != tokens.verify(&again)?.id);
        let other = Tokens::new(b"another secret entirely........", 5);
        assert_eq!(
            other.verify(&token).map_err(|e| e.code).err(),
            Some(ErrorCode::Unauthorized)
        );
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "7".into(),
                name: "ops".into(),
                iat: 0,
                exp: 1,
                jti: None,
            },
            &EncodingKey::from_secret(b"one secret that is long enough"),
        )
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        assert_eq!(
            tokens.verify(&expired).map_err(|e| e.code).err(),
            Some(ErrorCode::TokenExpired)
        );
        Ok(())
    }
}
