//! facegate patch: the message of a C++ exception caught by `dlib_rs_catch` (src/wrapper.rs).

use std::ffi::CStr;
use std::os::raw::c_char;

/// Room for the message; dlib's longest (a failed check with file, line and expression) fits.
const LEN: usize = 1024;

/// A buffer the C++ side writes an exception's message into; empty while nothing was thrown.
pub(crate) struct CppError([c_char; LEN]);

impl CppError {
    pub(crate) fn new() -> Self {
        Self([0; LEN])
    }

    /// For a `cpp!` closure: `error as "char*"`.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut c_char {
        self.0.as_mut_ptr()
    }

    /// `value` if nothing was thrown, else the exception's message (trimmed).
    pub(crate) fn check<T>(&self, value: T) -> Result<T, String> {
        if self.0[0] == 0 {
            return Ok(value);
        }
        // SAFETY: `dlib_rs_catch` always NUL-terminates within LEN, and the buffer starts zeroed.
        let message = unsafe { CStr::from_ptr(self.0.as_ptr()) };
        Err(message.to_string_lossy().trim().to_string())
    }
}
