#!/usr/bin/env python3
"""Times face_recognition 1.3.0's default pipeline per frame, the Python reference the Rust
pipeline is compared with:

    decode  face_recognition.load_image_file(JPEG bytes)       (PIL decode, RGB array)
    detect  face_recognition.face_locations(img)                (HOG, upsample 1)
    encode  face_recognition.face_encodings(img, locations)     (5-point landmarks, 1 jitter)

Each frame's bytes are read once; every iteration then decodes, detects and encodes. After
--warmup untimed iterations, --iterations timed ones give the medians. Prints a table, then one
JSON line per frame (lines starting with "{"; only those with --json):

    {"frame": ..., "width": ..., "height": ..., "faces": ..., "median_ms": ..., "decode_ms": ...,
     "detect_ms": ..., "encode_ms": ..., ...}

median_ms is the median of the per-iteration totals. --upsample 0 and --landmarks large match
other pipelines (e.g. dlib's HOG without upsampling, the 68-point predictor).

    scripts/reference/bench_reference.py .cache/media/bench/frame_640x480.jpg .cache/media/bench/frame_1280x720.jpg
"""
import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in scripts/reference/
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _pyref  # noqa: E402

_pyref.ensure_venv()
face_recognition = _pyref.import_face_recognition()


def bench(path, iterations, warmup, upsample, landmarks):
    data = Path(path).read_bytes()
    rows = []
    faces = None
    for i in range(warmup + iterations):
        t0 = time.perf_counter()
        img = face_recognition.load_image_file(io.BytesIO(data))
        t1 = time.perf_counter()
        boxes = face_recognition.face_locations(img, number_of_times_to_upsample=upsample)
        t2 = time.perf_counter()
        encodings = face_recognition.face_encodings(img, known_face_locations=boxes, model=landmarks)
        t3 = time.perf_counter()
        faces = len(encodings)
        if i >= warmup:
            rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
    med = [statistics.median(col) * 1000 for col in zip(*rows)]
    return {
        "frame": str(path),
        "width": int(img.shape[1]),
        "height": int(img.shape[0]),
        "faces": faces,
        "iterations": iterations,
        "warmup": warmup,
        "upsample": upsample,
        "landmarks": landmarks,
        "median_ms": round(med[3], 2),
        "decode_ms": round(med[0], 2),
        "detect_ms": round(med[1], 2),
        "encode_ms": round(med[2], 2),
        "min_ms": round(min(r[3] for r in rows) * 1000, 2),
        "stack": "face_recognition %(face_recognition)s, dlib-bin %(dlib-bin)s, Python %(python)s" % _pyref.versions(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("frames", nargs="+", help="image files (JPEG or anything PIL reads)")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--upsample", type=int, default=1, help="face_locations number_of_times_to_upsample (default 1)")
    ap.add_argument("--landmarks", choices=("small", "large"), default="small",
                    help="face_encodings model: small = 5-point (default), large = 68-point")
    ap.add_argument("--json", action="store_true", help="print only the JSON lines")
    args = ap.parse_args()
    if args.iterations < 1 or args.warmup < 0:
        ap.error("--iterations must be >= 1 and --warmup >= 0")

    results = []
    if not args.json:
        print("%-28s %10s %5s %9s %9s %9s %9s" % ("frame", "size", "faces", "decode", "detect", "encode", "total"))
    for frame in args.frames:
        r = bench(frame, args.iterations, args.warmup, args.upsample, args.landmarks)
        results.append(r)
        if r["faces"] != 1:
            print("bench_reference: warning: %s has %d faces" % (frame, r["faces"]), file=sys.stderr)
        if not args.json:
            print("%-28s %10s %5d %9.1f %9.1f %9.1f %9.1f" % (
                Path(frame).name, "%dx%d" % (r["width"], r["height"]), r["faces"],
                r["decode_ms"], r["detect_ms"], r["encode_ms"], r["median_ms"]), flush=True)
    if not args.json:
        print("median ms over %d iterations (%d warmup), upsample=%d, landmarks=%s" % (
            args.iterations, args.warmup, args.upsample, args.landmarks))
    for r in results:
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
