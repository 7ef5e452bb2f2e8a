//! Small UI pieces shared by the pages.

pub mod live_check;
pub mod toast;
