"""Shared helpers for the reference scripts: repo paths, running inside .tools/pyref, versions."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".tools" / "pyref"
MEDIA = ROOT / ".cache" / "media"
DISTS = ("face_recognition", "face_recognition_models", "dlib-bin", "numpy", "Pillow")


def ensure_venv():
    """Re-run this script with the reference venv's Python if it is not the current one."""
    venv_python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not venv_python.exists():
        sys.exit("pyref: %s missing: run scripts/reference/setup.sh" % venv_python)
    os.execv(str(venv_python), [str(venv_python), *sys.argv])


def versions():
    from importlib.metadata import version

    found = {d: version(d) for d in DISTS}
    found["python"] = sys.version.split()[0]
    return found


def import_face_recognition():
    """face_recognition prints a hint and calls quit() when its models package is missing."""
    try:
        import face_recognition
    except SystemExit:
        sys.exit("pyref: face_recognition cannot import face_recognition_models: run scripts/reference/setup.sh")
    return face_recognition
