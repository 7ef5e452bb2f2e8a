#!/usr/bin/env python3
"""Writes tests/fixtures/reference_encodings.json: what face_recognition 1.3.0 (dlib's HOG
detector, 68-point landmarks, ResNet encoder) finds in each photo of .cache/media/photos/.

Per photo: the face count and boxes ([top, right, bottom, left], pixels of the original image, as
face_locations returns them: clipped to the image; raw_box: dlib's unclipped rectangle where it
differs), and
for single-face photos the 128-d encoding. Also the pairwise encoding distances of the single-face
photos (face_recognition's default match threshold is 0.6).

    scripts/reference/encode_reference.py            # regenerate the fixture
    scripts/reference/encode_reference.py --check    # compare a fresh run with the fixture

Runs itself under .tools/pyref (scripts/reference/setup.sh); photos from scripts/fetch-media.sh.
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in scripts/reference/
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _pyref  # noqa: E402

_pyref.ensure_venv()
face_recognition = _pyref.import_face_recognition()
import face_recognition_models  # noqa: E402
from face_recognition.api import _raw_face_locations  # noqa: E402
import numpy as np  # noqa: E402

UPSAMPLE = 1
NUM_JITTERS = 1
LANDMARKS = "large"  # the 68-point predictor
MODEL_FILES = {
    "landmarks": "shape_predictor_68_face_landmarks.dat",
    "encoder": "dlib_face_recognition_resnet_model_v1.dat",
}
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}


def _css(rect):
    return [int(rect.top()), int(rect.right()), int(rect.bottom()), int(rect.left())]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_hashes():
    """The dlib model files face_recognition loads, checked against scripts/checksums/models.sha256
    (the same files the Rust app loads from models/)."""
    models_dir = Path(face_recognition_models.__file__).parent / "models"
    pinned = {}
    sums = _pyref.ROOT / "scripts" / "checksums" / "models.sha256"
    if sums.exists():
        for line in sums.read_text().splitlines():
            if line.strip():
                digest, name = line.split(maxsplit=1)
                pinned[name.lstrip("*")] = digest
    out = {}
    for role, name in MODEL_FILES.items():
        digest = sha256(models_dir / name)
        if name in pinned and pinned[name] != digest:
            sys.exit("encode_reference: %s: sha256 %s, scripts/checksums/models.sha256 says %s" % (name, digest, pinned[name]))
        out[role] = {"file": name, "sha256": digest}
    return out


def encode_photos(photos_dir):
    paths = sorted(p for p in Path(photos_dir).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not paths:
        sys.exit("encode_reference: no photos in %s: run scripts/fetch-media.sh" % photos_dir)
    photos = {}
    encodings = {}
    for path in paths:
        img = face_recognition.load_image_file(str(path))
        # face_locations = dlib's rectangles clipped to the image (_trim_css_to_bounds)
        raw = [_css(r) for r in _raw_face_locations(img, number_of_times_to_upsample=UPSAMPLE, model="hog")]
        boxes = face_recognition.face_locations(img, number_of_times_to_upsample=UPSAMPLE, model="hog")
        entry = {
            "sha256": sha256(path),
            "size": [int(img.shape[1]), int(img.shape[0])],  # [width, height]
            "faces": len(boxes),
        }
        if len(boxes) == 1:
            (enc,) = face_recognition.face_encodings(
                img, known_face_locations=boxes, num_jitters=NUM_JITTERS, model=LANDMARKS
            )
            entry["box"] = [int(v) for v in boxes[0]]
            if raw[0] != entry["box"]:
                entry["raw_box"] = raw[0]
            entry["encoding"] = [float(v) for v in enc]
            encodings[path.name] = enc
        else:
            entry["boxes"] = [[int(v) for v in b] for b in boxes]
            if raw != entry["boxes"]:
                entry["raw_boxes"] = raw
        photos[path.name] = entry
        print("%-26s %dx%d  faces=%d  %s" % (path.name, entry["size"][0], entry["size"][1], len(boxes),
                                             entry.get("box", entry.get("boxes"))), file=sys.stderr)
    names = sorted(encodings)
    distances = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            distances["%s|%s" % (a, b)] = float(face_recognition.face_distance([encodings[a]], encodings[b])[0])
    return photos, distances


def build(photos_dir):
    v = _pyref.versions()
    photos, distances = encode_photos(photos_dir)
    return {
        "generator": "scripts/reference/encode_reference.py: face_recognition %s, face_recognition_models %s, "
                     "dlib-bin %s, numpy %s, Pillow %s, Python %s" % (
                         v["face_recognition"], v["face_recognition_models"], v["dlib-bin"],
                         v["numpy"], v["Pillow"], v["python"]),
        "versions": v,
        "pipeline": {
            "load": "face_recognition.load_image_file (PIL, RGB)",
            "detector": "hog",
            "upsample": UPSAMPLE,
            "landmarks": "68-point (face_encodings model='large')",
            "num_jitters": NUM_JITTERS,
            "box_order": "[top, right, bottom, left]",
            "boxes": "box = dlib's HOG rectangle clipped to the image, as face_locations returns it; "
                     "raw_box (only where it differs) = the unclipped rectangle. face_encodings was "
                     "given the clipped box, so its landmarks start from that box.",
            "match_threshold": 0.6,
        },
        "models": model_hashes(),
        "photos": photos,
        "distances": distances,
    }


def fmt(value):
    """Float32 values (dlib computes in float) round-trip exactly with 9 significant digits."""
    return float("%.9g" % value)


def to_json(obj, indent=0):
    """json.dumps(indent=2), except that lists of numbers stay on one line (8 values a line for
    the 128-d encodings), so the fixture reads and diffs well."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = ["%s%s: %s" % (inner, json.dumps(k), to_json(v, indent + 1)) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and all(isinstance(v, (int, float)) for v in obj):
        values = [json.dumps(v) for v in obj]
        if len(values) <= 8:
            return "[" + ", ".join(values) + "]"
        rows = [inner + ", ".join(values[k:k + 8]) for k in range(0, len(values), 8)]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    if isinstance(obj, list):
        if not obj:
            return "[]"
        return "[\n" + ",\n".join(inner + to_json(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def dump(doc):
    doc = json.loads(json.dumps(doc))
    for entry in doc["photos"].values():
        if "encoding" in entry:
            entry["encoding"] = [fmt(v) for v in entry["encoding"]]
    doc["distances"] = {k: round(v, 6) for k, v in doc["distances"].items()}
    return to_json(doc) + "\n"


def compare(old, new, tol=1e-5):
    problems = []
    for name, entry in new["photos"].items():
        ref = old["photos"].get(name)
        if ref is None:
            problems.append("%s: not in the fixture" % name)
            continue
        if ref["faces"] != entry["faces"]:
            problems.append("%s: %d faces, fixture has %d" % (name, entry["faces"], ref["faces"]))
            continue
        if ref.get("box", ref.get("boxes")) != entry.get("box", entry.get("boxes")):
            problems.append("%s: boxes %s, fixture has %s" % (name, entry.get("box", entry.get("boxes")),
                                                             ref.get("box", ref.get("boxes"))))
        if "encoding" in entry:
            d = float(np.max(np.abs(np.array(entry["encoding"]) - np.array(ref["encoding"]))))
            if d > tol:
                problems.append("%s: encoding differs by up to %.3g" % (name, d))
    for name in old["photos"]:
        if name not in new["photos"]:
            problems.append("%s: in the fixture, not among the photos" % name)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", default=str(_pyref.MEDIA / "photos"))
    ap.add_argument("--out", default=str(_pyref.ROOT / "tests" / "fixtures" / "reference_encodings.json"))
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = ap.parse_args()
    doc = build(args.photos)
    out = Path(args.out)
    if args.check:
        problems = compare(json.loads(out.read_text()), json.loads(dump(doc)))
        for p in problems:
            print("encode_reference: " + p, file=sys.stderr)
        print("encode_reference: %s %s" % (out, "differs" if problems else "matches"))
        sys.exit(1 if problems else 0)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump(doc))
    counts = ", ".join("%s=%d" % (k, v["faces"]) for k, v in doc["photos"].items())
    print("encode_reference: wrote %s (%s)" % (out, counts))


if __name__ == "__main__":
    main()
