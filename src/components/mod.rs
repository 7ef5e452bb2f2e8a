//! Small UI pieces shared by the pages.

pub mod form_field;
pub mod live_check;
pub mod passkey;
pub mod signed_in_apps;
pub mod toast;
