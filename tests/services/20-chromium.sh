#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/Saas.Browser.Tests): Debian's package, driven by
# Playwright through ExecutablePath. Never `playwright install` (it downloads a browser build).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null | grep -i chromium >/dev/null || { echo "chromium did not install" >&2; exit 1; }
echo "CHROMIUM_PATH=/usr/bin/chromium" >> .env
