//! OpenBLAS runs the matrix products of dlib's encoder network, and two of its defaults cost
//! time here (docs/benchmarks.md):
//! - on a CPU its detection does not recognise (common in virtual machines) it falls back to its
//!   generic "Prescott" kernels, which doubles the encoding time (17 → 35-40 ms);
//! - it runs each product on every core, while the face workers already keep every core busy:
//!   one BLAS thread per worker gives ~35 % more frames per second with two workers.
//!
//! Both are chosen from environment variables when the library loads, before `main`, so this
//! module only reports them and says what to set.

use std::ffi::{CStr, c_char};

unsafe extern "C" {
    /// The name of the kernel set OpenBLAS chose: a static, NUL-terminated string.
    fn openblas_get_corename() -> *const c_char;
    /// The number of threads OpenBLAS runs each product on.
    fn openblas_get_num_threads() -> i32;
}

/// The OpenBLAS kernel set in use ("Haswell", "SkylakeX", "Prescott"…).
pub fn openblas_core() -> String {
    // SAFETY: dlib-face-recognition links OpenBLAS (its `openblas` feature, which this crate
    // requires); the function takes nothing and returns a pointer to a static string or null.
    let name = unsafe { openblas_get_corename() };
    if name.is_null() {
        return "unknown".into();
    }
    // SAFETY: non-null, NUL-terminated and static, as above.
    unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned()
}

/// Threads per OpenBLAS product.
pub fn openblas_threads() -> i32 {
    // SAFETY: as above; takes nothing, returns a number.
    unsafe { openblas_get_num_threads() }
}

/// What the operator should set for `workers` face workers, if anything: environment variables
/// with the reason, for a start-up warning.
pub fn tuning_advice(workers: usize) -> Option<String> {
    let core = openblas_core();
    let mut settings = Vec::new();
    if core.eq_ignore_ascii_case("prescott")
        && let Some(better) = best_coretype()
    {
        settings.push(format!(
            "OPENBLAS_CORETYPE={better} (OpenBLAS did not recognise this CPU and runs its generic \
             {core} kernels, which makes face encoding about twice as slow)"
        ));
    }
    if workers > 1 && openblas_threads() > 1 {
        settings.push(format!(
            "OPENBLAS_NUM_THREADS=1 (the {workers} face workers already use the cores; OpenBLAS \
             threads on top of them cost about a quarter of the throughput)"
        ));
    }
    (!settings.is_empty()).then(|| {
        format!(
            "for faster face encoding, start facegate with {}",
            settings.join(" and ")
        )
    })
}

/// The OpenBLAS kernel set this CPU can run, if it is better than the generic one.
fn best_coretype() -> Option<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Some("SkylakeX");
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return Some("Haswell");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_has_a_name() {
        assert!(!openblas_core().is_empty());
        assert!(openblas_threads() >= 1);
    }
}
