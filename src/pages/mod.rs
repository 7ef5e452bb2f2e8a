//! The pages, one module each.

pub(crate) mod consent;
pub(crate) mod home;
pub(crate) mod login;
pub(crate) mod not_found;
pub(crate) mod register;
pub(crate) mod welcome;
