//! OpenBLAS runs the matrix products of dlib's encoder network, and two of its defaults cost
//! time here (docs/benchmarks.md):
//! - on a CPU its detection does not recognise (common in virtual machines) it falls back to its
//!   generic "Prescott" kernels, which doubles the encoding time (17 → 35-40 ms);
//! - it runs each product on every core, while the face workers already keep every core busy:
//!   one BLAS thread per worker gives ~35 % more frames per second with two workers.
//!
//! Both are read from environment variables when the library loads, before `main`. So the
//! server re-executes itself once at start-up with better values ([`reexec_if_slow`]), unless the
//! operator set them: `make run` gets the fast path on any machine without a setting.

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

/// Set on the re-executed process: what was changed, and a guard against re-executing again.
const TUNED_MARKER: &str = "FACEGATE_OPENBLAS_TUNED";

/// The OpenBLAS variables to start with, given what OpenBLAS chose (`core`, `threads`), the face
/// workers, which variables the operator already set, and the best kernel this CPU can run.
fn better_environment(
    core: &str,
    threads: i32,
    workers: usize,
    operator_set: impl Fn(&str) -> bool,
    best: Option<&'static str>,
) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    if core.eq_ignore_ascii_case("prescott")
        && !operator_set("OPENBLAS_CORETYPE")
        && let Some(best) = best
    {
        env.push(("OPENBLAS_CORETYPE", best.to_string()));
    }
    if workers > 1 && threads > 1 && !operator_set("OPENBLAS_NUM_THREADS") && !operator_set("OMP_NUM_THREADS")
    {
        env.push(("OPENBLAS_NUM_THREADS", "1".to_string()));
    }
    env
}

/// Re-executes this binary with better OpenBLAS settings when OpenBLAS fell back to its generic
/// kernels on a CPU that can run better ones, or runs several threads per product while
/// `workers` face workers share the cores. Returns when there is nothing to change, when this
/// process is already the re-executed one, or when the re-execution failed (then it says so).
pub fn reexec_if_slow(workers: usize) {
    if std::env::var_os(TUNED_MARKER).is_some() {
        return;
    }
    let env = better_environment(
        &openblas_core(),
        openblas_threads(),
        workers,
        |name| std::env::var_os(name).is_some(),
        best_coretype(),
    );
    if env.is_empty() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let changed: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut command = std::process::Command::new(exe);
    command
        .args(std::env::args_os().skip(1))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env(TUNED_MARKER, changed.join(" "));
    use std::os::unix::process::CommandExt;
    // `exec` only returns on failure; the process keeps running as it is.
    let error = command.exec();
    eprintln!(
        "facegate: could not restart with {} ({error}); face encoding stays slower",
        changed.join(" ")
    );
}

/// What the start-up re-execution changed, if it happened.
pub fn tuned_at_start() -> Option<String> {
    std::env::var(TUNED_MARKER).ok()
}

/// What the operator should set for `workers` face workers, if anything: environment variables
/// with the reason, for a start-up warning (when the start-up re-execution could not fix it).
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

/// The OpenBLAS kernel set this CPU can run, if it is better than the generic one. Only sets
/// whose every instruction family the CPU reports: a wrong guess would crash on the first product.
fn best_coretype() -> Option<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512cd") && has!("avx512bw") && has!("avx512dq") && has!("avx512vl") {
            return Some("SkylakeX");
        }
        if has!("avx2") && has!("fma") {
            return Some("Haswell");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generic_kernel_and_extra_threads_are_replaced_unless_the_operator_chose() {
        let nobody = |_: &str| false;
        assert_eq!(
            better_environment("Prescott", 2, 2, nobody, Some("Haswell")),
            vec![
                ("OPENBLAS_CORETYPE", "Haswell".to_string()),
                ("OPENBLAS_NUM_THREADS", "1".to_string())
            ]
        );
        // A CPU with nothing better than the generic kernels keeps them.
        assert_eq!(better_environment("Prescott", 1, 2, nobody, None), vec![]);
        // A recognised CPU and one thread: nothing to do.
        assert_eq!(
            better_environment("SkylakeX", 1, 2, nobody, Some("SkylakeX")),
            vec![]
        );
        // One face worker may use every core for its products.
        assert_eq!(
            better_environment("Haswell", 2, 1, nobody, Some("Haswell")),
            vec![]
        );
        // What the operator set stands.
        let set = |name: &str| name == "OPENBLAS_CORETYPE" || name == "OPENBLAS_NUM_THREADS";
        assert_eq!(better_environment("Prescott", 2, 2, set, Some("Haswell")), vec![]);
    }

    #[test]
    fn the_core_has_a_name() {
        assert!(!openblas_core().is_empty());
        assert!(openblas_threads() >= 1);
    }
}
