//! Who is making a request. The auth middleware puts an [`Identity`] into the request's
//! extensions; handlers take it as an extractor to check roles and to record the actor in the
//! audit log (eventLogs). With auth off (`--no-auth`, loopback only) every request is the
//! anonymous admin, as Airflow's simple auth manager does with `all_admins`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

/// Roles of the simple auth manager, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub username: String,
    pub role: Role,
}

impl Identity {
    /// The identity of every request when auth is off.
    pub fn anonymous_admin() -> Identity {
        Identity {
            username: "Anonymous".into(),
            role: Role::Admin,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Identity>()
            .cloned()
            .unwrap_or_else(Identity::anonymous_admin))
    }
}
