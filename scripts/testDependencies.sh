#!/usr/bin/env bash
# What the test suite needs beyond npm: Debian's chromium (the report's browser test drives it
# through playwright-core, which downloads no browser) and GNU time (the loaders' memory tests
# read peak RSS from it). Installed with apt-get when missing, so that `npm test` passes on a
# fresh machine as the README promises.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/time ] || missing+=(time)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "npm test needs Debian packages that are missing: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
