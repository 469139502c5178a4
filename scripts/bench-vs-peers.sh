#!/usr/bin/env bash
# Side-by-side batch compose: herdlens vs ffmpeg vs GStreamer over the same frames, one core each.
#
#   scripts/bench-vs-peers.sh [--frames DIR] [--count 120] [--size 1280x720] [--runs 3]
#
# Without --frames it makes COUNT q85 4:2:0 frames from the pen photographs (scripts/make-sampleframes.py
# --bench, needs Pillow). Installs ffmpeg and GStreamer from Debian when missing. Every tool runs as a
# whole process pinned to one core (taskset -c 1); the best of --runs wall times is reported, as
# frames/s and as ratios. herdlens draws the richer overlay (10 labelled boxes, 3 translucent zones,
# a HUD strip, an alert banner); ffmpeg draws 10 drawbox + 3 drawtext; GStreamer 3 textoverlay.
set -euo pipefail
cd "$(dirname "$0")/.."

frames="" count=120 size=1280x720 runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --frames) frames="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
w=${size%x*} h=${size#*x}

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
command -v taskset >/dev/null || need+=(util-linux)
if ((${#need[@]})); then
  echo "installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z "$frames" ]]; then
  python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
  frames="$work/frames"
  python3 scripts/make-sampleframes.py --bench "$frames" --count "$count" --size "$size"
fi
count=$(ls "$frames"/frame-*.jpg | wc -l)

swift build -c release --product herdlens >/dev/null
herdlens=.build/release/herdlens
python3 scripts/bench-overlay.py --width "$w" --height "$h" > "$work/overlay.json"

font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
u=$(( h / 72 ))   # 10 units per 720 lines
boxes=""
for i in $(seq 0 9); do
  bx=$(( (60 + i * 113) * w / 1280 )) by=$(( (90 + (i % 3) * 170) * h / 720 ))
  boxes+="drawbox=x=$bx:y=$by:w=$((150 * w / 1280)):h=$((170 * h / 720)):color=green@1:t=$(( u / 4 + 2 )),"
done
texts="drawtext=fontfile=$font:text='Consignment HK-2026-11-20-0042  Count 57/100':x=10:y=8:fontsize=$((15 * h / 720)):fontcolor=white:box=1:boxcolor=black@0.55,"
texts+="drawtext=fontfile=$font:text='Loading ramp':x=$((70 * w / 1280)):y=$((450 * h / 720)):fontsize=$((15 * h / 720)):fontcolor=white,"
texts+="drawtext=fontfile=$font:text='WARNING count.mismatch  Counted 57 of 100 declared head':x=12:y=$((h - 30 * h / 720)):fontsize=$((18 * h / 720)):fontcolor=white:box=1:boxcolor=red@0.85"

run_best() { # name, command...
  local name=$1 best=""; shift
  for _ in $(seq "$runs"); do
    rm -rf "$work/out" && mkdir -p "$work/out"
    local t0 t1 el
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/err" || { echo "$name failed:" >&2; cat "$work/err" >&2; return 1; }
    t1=$(date +%s.%N)
    el=$(echo "$t1 - $t0" | bc -l)
    if [[ -z "$best" ]] || (( $(echo "$el < $best" | bc -l) )); then best=$el; fi
  done
  echo "$best"
}

echo "frames: $count x ${w}x${h} from $frames; best of $runs runs; one core (taskset -c 1)"
t_ffmpeg=$(run_best ffmpeg taskset -c 1 ffmpeg -nostdin -y -threads 1 -filter_threads 1 -i "$frames/frame-%04d.jpg" \
  -vf "${boxes}${texts}" -c:v mjpeg -q:v 3 -threads 1 -f image2 "$work/out/%04d.jpg")
t_gst=$(run_best gstreamer taskset -c 1 gst-launch-1.0 -q multifilesrc location="$frames/frame-%04d.jpg" index=0 \
  stop-index=$((count - 1)) caps="image/jpeg,framerate=30/1" ! jpegdec ! \
  textoverlay text="Consignment HK-2026-11-20-0042" valignment=top halignment=left font-desc="DejaVu Sans 11" ! \
  textoverlay text="Loading ramp" valignment=center halignment=left font-desc="DejaVu Sans 11" ! \
  textoverlay text="WARNING count.mismatch" valignment=bottom halignment=left font-desc="DejaVu Sans 13" ! \
  jpegenc quality=85 ! multifilesink location="$work/out/%04d.jpg")
t_herd=$(run_best herdlens taskset -c 1 "$herdlens" compose --annotations "$work/overlay.json" --output "$work/out" "$frames")
echo '{"version":1,"frame":{"width":'"$w"',"height":'"$h"'},"items":[]}' > "$work/empty.json"
t_codec=$(run_best libjpeg-only taskset -c 1 "$herdlens" compose --pixel-path --annotations "$work/empty.json" --output "$work/out" "$frames")
t_herd_px=$(run_best herdlens-pixels taskset -c 1 "$herdlens" compose --pixel-path --annotations "$work/overlay.json" --output "$work/out" "$frames")

fps() { echo "scale=1; $count / $1" | bc -l; }
ms() { echo "scale=2; $1 * 1000 / $count" | bc -l; }
printf '%-34s %10s %10s\n' tool "frames/s" "ms/frame"
printf '%-34s %10s %10s\n' "ffmpeg (10 drawbox + 3 drawtext)" "$(fps "$t_ffmpeg")" "$(ms "$t_ffmpeg")"
printf '%-34s %10s %10s\n' "gstreamer (3 textoverlay)" "$(fps "$t_gst")" "$(ms "$t_gst")"
printf '%-34s %10s %10s\n' "herdlens compose (coefficients)" "$(fps "$t_herd")" "$(ms "$t_herd")"
printf '%-34s %10s %10s\n' "herdlens compose --pixel-path" "$(fps "$t_herd_px")" "$(ms "$t_herd_px")"
printf '%-34s %10s %10s\n' "reference: decode+encode, no overlay" "$(fps "$t_codec")" "$(ms "$t_codec")"
echo "herdlens vs ffmpeg:    $(echo "scale=2; $t_ffmpeg / $t_herd" | bc -l)x"
echo "herdlens vs gstreamer: $(echo "scale=2; $t_gst / $t_herd" | bc -l)x"
echo "pixel path vs ffmpeg:  $(echo "scale=2; $t_ffmpeg / $t_herd_px" | bc -l)x; vs gstreamer: $(echo "scale=2; $t_gst / $t_herd_px" | bc -l)x"
