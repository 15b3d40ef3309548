#!/usr/bin/env bash
# Install the Debian packages the test suite needs, when missing (we run as root on CI).
# Usage: tools/ensure-system-deps.sh chromium [redis-server postgresql nginx ...]
set -euo pipefail
declare -A probe=(
  [chromium]=/usr/bin/chromium
  [redis-server]=/usr/bin/redis-server
  [postgresql]=/usr/lib/postgresql
  [nodejs]=/usr/bin/node
  [nginx]=/usr/sbin/nginx
)
missing=()
for pkg in "$@"; do
  path=${probe[$pkg]:-}
  if [ -n "$path" ] && [ -e "$path" ]; then continue; fi
  if [ -z "$path" ] && dpkg -s "$pkg" >/dev/null 2>&1; then continue; fi
  missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing system packages: ${missing[*]} (run as root or install them)" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
