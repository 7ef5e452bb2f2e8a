//! The pages, one module each.

pub mod consent;
pub mod home;
pub mod login;
pub mod not_found;
pub mod register;
pub mod welcome;
