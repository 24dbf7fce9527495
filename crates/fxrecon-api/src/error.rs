//! The API's errors and their one JSON shape, `{"error": "..."}` (contract section 6).
//!
//! Owns: which status each error gets. Never carries anything from the reconciler's memory.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answered to a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (a bad filter, a bad time range): 400.
    #[error("{0}")]
    BadRequest(String),
    /// No bearer token, or the wrong one: 401.
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// Nothing is known by that key: 404.
    #[error("{0}")]
    NotFound(String),
    /// The reconciler did not answer in time (it is busy, or its run is over): 503.
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}
