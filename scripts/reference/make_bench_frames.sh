#!/usr/bin/env bash
# Makes two real webcam-sized JPEG frames for scripts/reference/bench_reference.py (and the Rust
# benches) in .cache/media/bench/: frame_640x480.jpg and frame_1280x720.jpg, both cut from
# obama3.jpg (1434x2333, face_recognition 1.3.0's test images): a 4:3 and a 16:9 crop around the
# head and shoulders, downscaled (no padding, no upscaling), one face of ~130 px and ~265 px.
# Called by scripts/fetch-media.sh. Only writes frames that are missing, and checks the ones it
# wrote have exactly one face (HOG, upsample 0 and 1) when the reference venv .tools/pyref exists.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$root/.cache/media/photos/obama3.jpg"
out="$root/.cache/media/bench"
[[ -f "$src" ]] || { echo "make-bench-frames: $src missing: run scripts/fetch-media.sh" >&2; exit 1; }
mkdir -p "$out"

made=0
frame() { # name crop-filter
  [[ -s "$out/$1" ]] && return 0
  made=$((made + 1))
  ffmpeg -nostdin -hide_banner -loglevel error -threads 1 -i "$src" -vf "$2" -frames:v 1 \
    -q:v 3 -pix_fmt yuvj420p -y "$out/.$1.tmp.jpg"
  mv -f "$out/.$1.tmp.jpg" "$out/$1"
}
# crop=w:h:x:y on the 1434x2333 source; the face box there is top 277, bottom 598, x 633..954.
# (A crop from y=60 for the 16:9 frame also catches a false HOG hit in the chandelier.)
frame frame_640x480.jpg  "crop=1434:1075:0:0,scale=640:480,setsar=1"
frame frame_1280x720.jpg "crop=1434:807:0:150,scale=1280:720,setsar=1"

py="$root/.tools/pyref/bin/python"
if [[ $made == 0 ]]; then
  :  # both frames were already in place (and checked when they were made)
elif [[ -x "$py" ]]; then
  "$py" - "$out/frame_640x480.jpg" "$out/frame_1280x720.jpg" <<'PY'
import sys
import face_recognition
for path in sys.argv[1:]:
    img = face_recognition.load_image_file(path)
    for up in (0, 1):
        n = len(face_recognition.face_locations(img, number_of_times_to_upsample=up))
        if n != 1:
            sys.exit("make-bench-frames: %s has %d faces at upsample %d, want 1" % (path, n, up))
PY
  echo "make-bench-frames: frame_640x480.jpg, frame_1280x720.jpg in ${out#"$root"/} (one face each)"
else
  echo "make-bench-frames: frame_640x480.jpg, frame_1280x720.jpg in ${out#"$root"/} (face count not checked: run scripts/reference/setup.sh)"
fi
