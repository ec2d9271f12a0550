#!/usr/bin/env bash
# Make sure Debian's Chromium (and Japanese fonts) are there for the browser tests.
# A no-op when /usr/bin/chromium exists; otherwise installs the packages with apt-get,
# which needs root. Playwright drives this browser; it never downloads one of its own.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "Chromium is missing: run as root, or: sudo apt-get install chromium fonts-noto-cjk" >&2
    exit 1
fi
echo "Chromium is not installed; installing it from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
/usr/bin/chromium --version >&2
