//! axum's extractors with their rejections turned into this hub's `ApiError`, in one
//! place: handlers name these instead of axum's own, so a malformed form is always the
//! same 400 and a JSON body always goes through `JsonObject`'s 415/413/400 rules.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use super::{ApiError, ApiResult, JsonObject};
use crate::state::AppState;

/// An url-encoded form body; anything axum cannot read as `T` is 400 "Malformed form.".
pub struct Form<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(_) => Err(ApiError::bad_request("Malformed form.")),
        }
    }
}

/// Query parameters where a malformed query string means "no parameters" (`T::default()`).
pub struct LenientQuery<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequestParts<S> for LenientQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let q = axum::extract::Query::<T>::from_request_parts(parts, state).await;
        Ok(LenientQuery(q.map(|q| q.0).unwrap_or_default()))
    }
}

/// A request body type read from a JSON object, with the field rules of `JsonObject`
/// (a field of the wrong type is a 400 naming it).
pub trait FromJson: Sized {
    fn from_json(body: &JsonObject) -> ApiResult<Self>;
}

/// A JSON body of the fixed shape `T`.
pub struct JsonBody<T>(pub T);

impl<T: FromJson> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let body = JsonObject::from_request(req, state).await?;
        T::from_json(&body).map(JsonBody)
    }
}
