#!/usr/bin/env bash
# System packages the test suite drives for real: headless Chromium and its driver (browser
# tests), poppler (PDF pages to PNG) and PostgreSQL (integration tests; the test fixtures
# start a server when none is listening). Installed from Debian's packages when missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fonts=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
[ -f "$fonts" ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "test-deps: missing ${need[*]}; install them with apt-get (needs root)." >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "test-deps: installing ${need[*]} from Debian's packages"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
