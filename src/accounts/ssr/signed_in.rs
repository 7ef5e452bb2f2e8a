//! Who is asking, as the identity layer sees it. Handlers get these from requests through the
//! extractors of `crate::http::auth`.

use mongodb::bson::oid::ObjectId;

use super::SessionToken;
use crate::{accounts::SignedInUser, db::sessions::SessionDoc};

/// The signed-in user of the request's session cookie (an extractor: `crate::http::auth`).
pub struct SignedIn {
    pub(crate) user: SignedInUser,
    pub(crate) user_id: ObjectId,
    pub(crate) session: SessionDoc,
    pub(crate) token: SessionToken,
}

/// Who sent a request, as recorded in the account history: the client address and browser.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientMeta {
    pub(crate) address: Option<String>,
    pub(crate) user_agent: Option<String>,
}
