//! API tokens as Airflow 3's simple auth manager issues them: HS512 JWTs with the header
//! `{"alg": "HS512", "kid": "not-used", "typ": "JWT"}` and the claims `sub`, `role`, `teams`,
//! `jti`, `aud` (`apache-airflow`), `nbf`, `exp`, `iat`.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::AuthError;
use super::{Identity, Role};

/// Airflow's default `[api_auth] jwt_audience`.
pub const AUDIENCE: &str = "apache-airflow";

/// The claims of one token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default)]
    pub teams: Vec<String>,
    pub jti: String,
    pub aud: String,
    pub nbf: i64,
    pub exp: i64,
    pub iat: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// The signature is good but `exp` has passed (Airflow: 401 `Token Expired`).
    Expired,
    /// Anything else: bad signature, garbage, wrong audience, unknown role, revoked
    /// (Airflow: 403 `Invalid JWT token`).
    Invalid,
}

/// Signs and checks tokens with one secret.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl: Duration) -> Tokens {
        let mut validation = Validation::new(Algorithm::HS512);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "sub", "aud"]);
        validation.validate_nbf = true;
        // Airflow's `jwt_leeway` is 10 s, but a token must expire when it says so here: tests
        // and short-lived tokens rely on it.
        validation.leeway = 0;
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// A signed token for `who`, valid from now for the configured lifetime.
    pub fn issue(&self, who: &Identity) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: who.username.clone(),
            role: who.role.as_str().to_string(),
            teams: Vec::new(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            aud: AUDIENCE.to_string(),
            nbf: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iat: now,
        };
        let mut header = Header::new(Algorithm::HS512);
        header.kid = Some("not-used".into());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| AuthError::Token(e.to_string()))
    }

    /// The claims of a valid token.
    pub fn check(&self, token: &str) -> Result<Claims, TokenError> {
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

impl Claims {
    /// The identity the token names (an unknown role makes the token invalid).
    pub fn identity(&self) -> Result<Identity, TokenError> {
        let role = Role::parse(&self.role).ok_or(TokenError::Invalid)?;
        Ok(Identity {
            username: self.sub.clone(),
            role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Identity {
        Identity {
            username: "alice".into(),
            role: Role::User,
        }
    }

    #[test]
    fn round_trip_has_airflows_header_and_claims() {
        let t = Tokens::new(b"k", Duration::from_secs(60));
        let tok = t.issue(&alice()).unwrap();
        let header = jsonwebtoken::decode_header(&tok).unwrap();
        assert_eq!(header.alg, Algorithm::HS512);
        assert_eq!(header.kid.as_deref(), Some("not-used"));
        let c = t.check(&tok).unwrap();
        assert_eq!((c.sub.as_str(), c.role.as_str()), ("alice", "user"));
        assert_eq!(c.aud, AUDIENCE);
        assert_eq!(c.exp - c.iat, 60);
        assert_eq!(c.identity().unwrap(), alice());
    }

    #[test]
    fn other_keys_garbage_and_expiry_are_told_apart() {
        let t = Tokens::new(b"k", Duration::from_secs(60));
        let other = Tokens::new(b"other", Duration::from_secs(60));
        let tok = other.issue(&alice()).unwrap();
        assert_eq!(t.check(&tok).unwrap_err(), TokenError::Invalid);
        assert_eq!(t.check("garbage").unwrap_err(), TokenError::Invalid);
        let mut tampered = t.issue(&alice()).unwrap();
        tampered.insert(tampered.len() / 2, 'x');
        assert_eq!(t.check(&tampered).unwrap_err(), TokenError::Invalid);

        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: "alice".into(),
            role: "user".into(),
            teams: vec![],
            jti: "j".into(),
            aud: AUDIENCE.into(),
            nbf: now - 100,
            exp: now - 10,
            iat: now - 100,
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &t.encoding).unwrap();
        assert_eq!(t.check(&expired).unwrap_err(), TokenError::Expired);
    }
}
