//! `ApiError`: every error the HTTP API returns, in Airflow's (FastAPI's) format
//! `{"detail": ...}` with Airflow's status codes.
//!
//! 4xx answers go back as they are and are not logged; a 5xx is logged once here and the client
//! gets a generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answer: a status and the `detail` value (a string, or FastAPI's list of errors).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: Value::String(detail.into()),
        }
    }
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        Self::new(StatusCode::CONFLICT, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// A FastAPI-style 422 for one bad input: `loc` is e.g. `["query", "limit"]`.
    pub fn unprocessable(
        kind: &str,
        loc: &[&str],
        msg: impl Into<String>,
        input: Value,
    ) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: json!([{ "type": kind, "loc": loc, "msg": msg.into(), "input": input }]),
        }
    }

    /// An unexpected failure: logged with its cause, answered with a generic 500.
    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %err, "internal error while serving a request");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error: the failure was logged by the Leoflow server",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "detail": self.detail }))).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}

impl From<crate::xcom::XcomError> for ApiError {
    fn from(e: crate::xcom::XcomError) -> ApiError {
        ApiError::internal(e)
    }
}

impl From<crate::ops::OpError> for ApiError {
    fn from(e: crate::ops::OpError) -> ApiError {
        use crate::ops::OpError as E;
        match e {
            E::NotFound(m) => ApiError::not_found(m),
            E::Conflict(m) => ApiError::conflict(m),
            E::UniqueViolation(m) => {
                // Airflow's `_UniqueConstraintErrorHandler` body; the id names the log line.
                let id: String = uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase();
                tracing::info!(id, "unique constraint: {m}");
                ApiError {
                    status: StatusCode::CONFLICT,
                    detail: json!({
                        "reason": "Unique constraint violation",
                        "statement": "hidden",
                        "orig_error": "hidden",
                        "message": format!("Serious error when handling your request. Check logs for more details - you will find it in api server when you look for ID {id}"),
                    }),
                }
            }
            E::MethodNotAllowed(m) => ApiError::new(StatusCode::METHOD_NOT_ALLOWED, m),
            E::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            E::BadRequest(m) => ApiError::bad_request(m),
            E::Invalid {
                loc,
                kind,
                msg,
                input,
            } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail: json!([{ "type": kind, "loc": loc, "msg": msg, "input": input }]),
            },
            E::TooLarge(m) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, m),
            // A key problem: its explanation names the key's source, never key material.
            E::Secrets(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m),
            E::Store(e) => ApiError::internal(e),
            E::Xcom(e) => ApiError::internal(e),
        }
    }
}
