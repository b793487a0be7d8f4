#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need on a fresh Debian/Ubuntu machine, then builds.
# Every step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'ecwatch setup: %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node.js $(node --version) is too old; install Node.js 20 or newer."
  exit 1
fi

# Programs `npm start` runs, as program:Debian package: nats-server, redis-server, tmux,
# adb (the watch relay).
programs=(nats-server:nats-server redis-server:redis-server tmux:tmux adb:adb)
# `npm test` (`ensure-deps.sh test`) also runs: python3 (the stuck SSE client of test/faults,
# which needs socket options Node cannot set), openssl (the certificates of the TLS tests),
# mosquitto_pub (an MQTT device nobody here wrote), promtool (checks every /metrics) and
# chromium (the browser's own EventSource).
if [ "${1:-}" = test ]; then
  programs+=(python3:python3 openssl:openssl mosquitto_pub:mosquitto-clients promtool:prometheus chromium:chromium)
fi
missing=()
for entry in "${programs[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${missing[*]}; install them with your package manager (these are the Debian/Ubuntu package names)."
    exit 1
  fi
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      say "missing ${missing[*]}; run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
      exit 1
    fi
    sudo_cmd=(sudo)
  fi
  say "installing ${missing[*]} with apt-get"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package starts a system redis-server on 6379; ecwatch starts its own and
  # would move to another port, so stop the system one when this script installed it.
  # The same for prometheus (the package of promtool), which would hold port 9090.
  if command -v systemctl >/dev/null 2>&1; then
    for service in redis-server prometheus; do
      if [[ " ${missing[*]} " == *" $service "* ]]; then "${sudo_cmd[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || true; fi
    done
  fi
fi

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build when any source is newer than the compiled CLI.
if [ ! -f dist/cli.js ] || [ -n "$(find src package.json tsconfig.json tsconfig.build.json -newer dist/cli.js -print -quit)" ]; then
  say "building"
  rm -rf dist
  npx --no-install tsc -p tsconfig.build.json
fi
