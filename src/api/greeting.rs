use axum::{Json, extract::Query};
use serde::{Deserialize, Serialize};

use crate::{accounts::ssr::SignedIn, error::AppError};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GreetingQuery {
    /// Optional, for the original client; it must be the signed-in user's own id.
    user_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Greeting {
    message: String,
    username: String,
    user_id: String,
    previous_login_at: Option<String>,
}

/// The original endpoint greeted any `user_id` for anyone; here only the signed-in user's own.
pub async fn greeting(
    signed_in: SignedIn,
    Query(query): Query<GreetingQuery>,
) -> Result<Json<Greeting>, AppError> {
    let user = signed_in.user;
    if query.user_id.as_deref().is_some_and(|id| id != user.user_id) {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "You can only see your own greeting.".into(),
        });
    }
    Ok(Json(Greeting {
        message: crate::accounts::ssr::greeting(&user),
        username: user.username,
        user_id: user.user_id,
        previous_login_at: user.previous_login_at,
    }))
}
