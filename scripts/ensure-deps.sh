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

# Programs the project and its tests run: nats-server, redis-server, tmux (terminal tests), adb (the watch relay),
# python3 (the stuck SSE client of test/faults, which needs socket options Node cannot set),
# openssl (the certificates of the TLS tests).
missing=()
for program in nats-server redis-server tmux adb python3 openssl; do
  command -v "$program" >/dev/null 2>&1 || missing+=("$program")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${missing[*]}; install them with your package manager (the Debian/Ubuntu packages are named the same)."
    exit 1
  fi
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      say "missing ${missing[*]}; run as root: apt-get update && apt-get install -y ${missing[*]}"
      exit 1
    fi
    sudo_cmd=(sudo)
  fi
  say "installing ${missing[*]} with apt-get"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  # The Debian package starts a system redis-server on 6379; ecwatch starts its own and
  # would move to another port, so stop the system one when this script installed it.
  if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null 2>&1; then
    "${sudo_cmd[@]}" systemctl disable --now redis-server >/dev/null 2>&1 || true
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
