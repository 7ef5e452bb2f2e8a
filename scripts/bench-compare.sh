#!/usr/bin/env bash
# Times the whole face pipeline (decode → detect → checks → landmarks → encode) per frame, ours
# against Python's face_recognition 1.3.0, on the same real frames in the same run, and prints
# both with the ratio. Ours: the `pipeline` group of benches/face_engine.rs (criterion, release),
# once with OpenBLAS as it configures itself and once with OPENBLAS_CORETYPE set for this CPU.
# Python: scripts/reference/bench_reference.py in .tools/pyref, twice: its defaults (HOG at
# upsample 1, 5-point landmarks) and the same models as ours (upsample 0, 68-point landmarks).
#
#   scripts/bench-compare.sh                 # `make bench`
#   ITERATIONS=10 scripts/bench-compare.sh   # fewer Python iterations (default 20)
#
# Frames: .cache/media/bench/ (made by scripts/fetch-media.sh).
# Timings on a shared machine drift: compare within one run, and keep other builds quiet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
iterations="${ITERATIONS:-20}"
frames=(frame_640x480.jpg frame_1280x720.jpg)

die() { echo "bench-compare: $*" >&2; exit 1; }

[[ -f .cache/media/photos/obama3.jpg ]] || die "test photos missing: run scripts/fetch-media.sh"
scripts/reference/make_bench_frames.sh >/dev/null
for f in "${frames[@]}"; do [[ -s .cache/media/bench/$f ]] || die ".cache/media/bench/$f missing"; done
scripts/reference/setup.sh >/dev/null || die "the Python reference venv could not be set up"

# Our pipeline's median per frame (ms, JSON) from criterion's saved estimates.
ours() {
  cargo bench --quiet --features test-support --bench face_engine -- '^pipeline/' >&2
  CRITERION_DIR="$target/criterion/pipeline" python3 - "${frames[@]}" <<'PY'
import json, os, sys
from pathlib import Path
out = {}
for frame in sys.argv[1:]:
    path = Path(os.environ["CRITERION_DIR"]) / frame / "new" / "estimates.json"
    if not path.exists():
        sys.exit("bench-compare: no criterion result at %s" % path)
    out[frame] = json.loads(path.read_text())["median"]["point_estimate"] / 1e6
print(json.dumps(out))
PY
}

# OpenBLAS picks its kernels from the CPU model and falls back to generic (Prescott) ones on CPUs
# it does not know, e.g. in VMs; OPENBLAS_CORETYPE overrides that (docs/benchmarks.md). Time both.
coretype=""
grep -qw avx2 /proc/cpuinfo && coretype=Haswell
grep -qw avx512f /proc/cpuinfo && coretype=SkylakeX
echo "bench-compare: ours, OpenBLAS as it detects this CPU" >&2
ours_auto="$(unset OPENBLAS_CORETYPE; ours)"
ours_tuned="$ours_auto"
if [[ -n "$coretype" ]]; then
  echo "bench-compare: ours, OPENBLAS_CORETYPE=$coretype" >&2
  ours_tuned="$(export OPENBLAS_CORETYPE=$coretype; ours)"
fi

paths=()
for f in "${frames[@]}"; do paths+=(".cache/media/bench/$f"); done
echo "bench-compare: Python, face_recognition defaults ($iterations iterations per frame)" >&2
py_default="$(scripts/reference/bench_reference.py --json --iterations "$iterations" "${paths[@]}")"
echo "bench-compare: Python, upsample 0 and 68-point landmarks" >&2
py_same="$(scripts/reference/bench_reference.py --json --iterations "$iterations" --upsample 0 --landmarks large "${paths[@]}")"

OURS_AUTO="$ours_auto" OURS_TUNED="$ours_tuned" CORETYPE="${coretype:-auto}" PY_DEFAULT="$py_default" PY_SAME="$py_same" \
  python3 - "${frames[@]}" <<'PY'
import json, os, sys
from pathlib import Path

def python(var):
    rows = [json.loads(l) for l in os.environ[var].splitlines() if l.startswith("{")]
    return {Path(r["frame"]).name: r for r in rows}

auto, tuned = json.loads(os.environ["OURS_AUTO"]), json.loads(os.environ["OURS_TUNED"])
default, same = python("PY_DEFAULT"), python("PY_SAME")
print("%-20s %10s %12s %14s %7s %16s %7s" % (
    "frame", "ours ms", "ours+%s" % os.environ["CORETYPE"], "Python dflt ms", "ratio", "Python 68/up0 ms", "ratio"))
for frame in sys.argv[1:]:
    d, s = default[frame]["median_ms"], same[frame]["median_ms"]
    print("%-20s %10.1f %12.1f %14.1f %6.1fx %16.1f %6.1fx" % (
        frame, auto[frame], tuned[frame], d, d / tuned[frame], s, s / tuned[frame]))
print("medians in ms; ratio = Python time / ours (tuned OpenBLAS). Python: %s" % next(iter(default.values()))["stack"])
PY
