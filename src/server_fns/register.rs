use leptos::prelude::*;

use crate::{accounts::Registered, error::ApiError};

/// Registers `username` + `email` with the face in `image` (a JPEG `data:` URL from the camera).
#[server(prefix = "/fn", endpoint = "register")]
pub async fn register(username: String, email: String, image: String) -> Result<Registered, ApiError> {
    use crate::{accounts::ssr, error::AppError, face::ImageInput};
    let state = super::ssr::app_state()?;
    ssr::register(&state, &username, &email, ImageInput::Text(image))
        .await
        .map_err(AppError::into_server_fn_error)
}
