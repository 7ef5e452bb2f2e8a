//! Small UI pieces shared by the pages.

pub mod toast;
