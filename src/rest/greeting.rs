use axum::{
    Json,
    extract::{Query, State},
    http::HeaderMap,
};
use serde::{Deserialize, Serialize};

use crate::{
    accounts::ssr::{current_user, token_from_headers},
    error::AppError,
    state::AppState,
};

#[derive(Deserialize)]
pub struct GreetingQuery {
    /// Optional, for the original client; it must be the signed-in user's own id.
    user_id: Option<String>,
}

#[derive(Serialize)]
pub struct Greeting {
    message: String,
    username: String,
    user_id: String,
    previous_login_at: Option<String>,
}

/// The original endpoint greeted any `user_id` for anyone; here only the signed-in user's own.
pub async fn greeting(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<GreetingQuery>,
) -> Result<Json<Greeting>, AppError> {
    let not_signed_in = || AppError::Unauthorized("Log in first.".into());
    let token = token_from_headers(&headers).ok_or_else(not_signed_in)?;
    let user = current_user(&state, &token).await?.ok_or_else(not_signed_in)?;
    if query.user_id.as_deref().is_some_and(|id| id != user.user_id) {
        return Err(AppError::Forbidden("You can only see your own greeting.".into()));
    }
    Ok(Json(Greeting {
        message: crate::accounts::ssr::greeting(&user),
        username: user.username,
        user_id: user.user_id,
        previous_login_at: user.previous_login_at,
    }))
}
