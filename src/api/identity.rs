//! The [`Identity`] of a request as an extractor. The auth route layer (`api::auth::require`)
//! puts one into the request's extensions before any handler of a protected route group runs
//! (the anonymous admin when auth is off); handlers take it to record the actor.
//!
//! A handler that asks for an identity the layer did not provide is a server bug (a route
//! outside a protected group): it is logged as an internal error and answered 401, never
//! served with a made-up role.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;
pub use crate::auth::Identity;

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Identity>() {
            Some(who) => Ok(who.clone()),
            None => {
                tracing::error!(
                    method = %parts.method,
                    path = parts.uri.path(),
                    "a handler asked for the caller's identity on a route without an auth policy; refusing the request"
                );
                Err(ApiError::unauthorized("Not authenticated"))
            }
        }
    }
}
