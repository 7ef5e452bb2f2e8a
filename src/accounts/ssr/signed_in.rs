//! Who is asking, as the identity layer sees it. Handlers get these from requests through the
//! extractors of `crate::http::auth`.

use mongodb::bson::oid::ObjectId;

use super::SessionToken;
use crate::{accounts::SignedInUser, db::sessions::SessionDoc};

/// The signed-in user of the request's session cookie (an extractor: `crate::http::auth`).
pub struct SignedIn {
    pub user: SignedInUser,
    pub user_id: ObjectId,
    pub session: SessionDoc,
    pub token: SessionToken,
}

/// Who sent a request, as recorded in the account history: the client address and browser.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientMeta {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}
