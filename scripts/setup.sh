#!/usr/bin/env bash
# Installs what HerdLens needs on Debian 12 (idempotent): C libraries, SQLite, fonts (Latin + CJK),
# Chromium and its driver for the viewer test, and the Python packages the checks use. Swift 6 must already be on PATH (https://swift.org/install).
set -euo pipefail
packages=(libjpeg62-turbo-dev libpng-dev libfreetype-dev libsqlite3-dev pkg-config fonts-dejavu-core fonts-wqy-zenhei python3 python3-pip chromium chromium-driver e2fsprogs util-linux)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for module in jsonschema selenium mcap websockets; do
  python3 -c "import $module" 2>/dev/null || python3 -m pip install -q "$module" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "$module"
done
command -v swift >/dev/null || { echo "swift not found: install Swift 6 (https://swift.org/install)" >&2; exit 1; }
