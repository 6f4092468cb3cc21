#!/bin/sh
# Debian's chromium for the browser tests (tests/e2e) and screenshots; Playwright drives it with
# executable_path=/usr/bin/chromium, so `playwright install` (a browser download) is never needed.
# Idempotent: does nothing when chromium and the fonts are already there. Needs root or sudo.
set -eu

CHROMIUM="${SERVICE_HUB_CHROMIUM:-/usr/bin/chromium}"
FONTS_PRESENT=yes
if command -v dpkg >/dev/null 2>&1; then
    dpkg -s fonts-noto-cjk fonts-noto-color-emoji >/dev/null 2>&1 || FONTS_PRESENT=no
fi
if [ -x "$CHROMIUM" ] && [ "$FONTS_PRESENT" = yes ]; then
    echo "chromium present: $CHROMIUM"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: install chromium yourself and set SERVICE_HUB_CHROMIUM to its path" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
# fonts-noto-cjk: the demo data is Chinese; fonts-noto-color-emoji: the channel and bell icons.
# Without them screenshots show empty boxes.
$SUDO apt-get install -y chromium fonts-noto-cjk fonts-noto-color-emoji
echo "chromium installed: $(command -v chromium)"
