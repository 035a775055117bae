//! Password hashing (argon2id). Hashing is deliberately slow, so it runs on the
//! blocking pool, never on an actor or HTTP worker thread.

use crate::error::EngineError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_LEN: usize = 256;

/// Check a user name: 1-64 of letters, digits, `.`, `-`, `_`.
pub fn validate_username(name: &str) -> Result<(), EngineError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(EngineError::invalid(format!(
            "username must be 1-64 characters of letters, digits, '.', '-' or '_', got {name:?}"
        )))
    }
}

/// Check a password's length.
pub fn validate_password(password: &str) -> Result<(), EngineError> {
    let n = password.chars().count();
    if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&n) {
        Ok(())
    } else {
        Err(EngineError::invalid(format!(
            "password must be {MIN_PASSWORD_LEN}-{MAX_PASSWORD_LEN} characters"
        )))
    }
}

/// Hash a password into a PHC string.
pub async fn hash_password(password: String) -> Result<String, EngineError> {
    tokio::task::spawn_blocking(move || {
        let mut bytes = [0u8; 16];
        rand::fill(&mut bytes);
        let salt = SaltString::encode_b64(&bytes)
            .map_err(|e| EngineError::broken(format!("password salt: {e}")))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| EngineError::broken(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| EngineError::internal("the hashing task failed", e))?
}

/// Whether `password` matches the PHC string `hash`.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A random password for a first admin nobody configured.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_their_password() -> Result<(), EngineError> {
        let hash = hash_password("correct horse".into()).await?;
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), hash.clone()).await);
        assert!(!verify_password("wrong horse".into(), hash).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
        Ok(())
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(validate_username("ops.night-1").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("a b").is_err());
        assert!(validate_password("short").is_err());
        assert_eq!(generate_password().len(), 20);
    }
}
