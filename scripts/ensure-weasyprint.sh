#!/usr/bin/env bash
# Make sure the system libraries WeasyPrint draws the PDF with are there (Debian's Pango,
# HarfBuzz's subsetter, Japanese fonts): the branch page's PDF (kpis/pdf.py) and its test.
# A no-op when they are installed; otherwise installs the packages with apt-get, which
# needs root. WeasyPrint itself is a Python dependency (pyproject.toml).
set -euo pipefail

PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk"

missing=""
for package in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $package"
    fi
done
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "WeasyPrint's libraries are missing: run as root, or: sudo apt-get install$missing" >&2
    exit 1
fi
echo "Installing WeasyPrint's libraries from Debian's packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
