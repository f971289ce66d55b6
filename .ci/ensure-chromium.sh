#!/usr/bin/env bash
# Install Debian's Chromium for the browser test and chart export, when it is missing and apt-get is usable.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "hashdemo: no apt-get here; install Chromium yourself or the browser test will be skipped" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "hashdemo: need root (or passwordless sudo) to apt-get install chromium; the browser test will be skipped" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium chromium-driver >/dev/null
} || echo "hashdemo: apt-get could not install chromium; the browser test will be skipped" >&2
