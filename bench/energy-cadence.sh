#!/usr/bin/env bash
# The energy the history stores for one simulated community against the simulator's own, at one
# reporting interval (issue 17's before/after figure). Usage:
#   bash bench/energy-cadence.sh [path/to/bin/ecwatch] [interval] [extra sim flags…]
# e.g. bash bench/energy-cadence.sh bin/ecwatch 15m
set -euo pipefail
ecwatch=$(realpath "${1:-bin/ecwatch}"); interval=${2:-15m}; shift $(( $# > 2 ? 2 : $# ))
dir=$(mktemp -d); port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cd "$dir"
"$ecwatch" up --communities 0 --port "$port" --json > up.log 2>&1 &
up=$!
trap 'kill $up 2>/dev/null; wait $up 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do grep -q '"ready"\|ready' up.log 2>/dev/null && break; sleep 0.5; done
start=2026-06-21T06:00:00Z; end=2026-06-21T12:00:00Z
"$ecwatch" sim --communities 1 --meters 10 --start "$start" --duration 6h --interval "$interval" --speed max --json "$@" > sim.json
sleep 3 # the aggregator drains what the simulator sent
curl -s "http://127.0.0.1:$port/communities/community1/history?from=$start&to=$end&step=1d" > history.json
node -e '
const sim = JSON.parse(require("fs").readFileSync("sim.json", "utf8"));
const buckets = JSON.parse(require("fs").readFileSync("history.json", "utf8"));
const own = sim.energy.community1, truth = sim.truthEnergy?.community1;
const gen = buckets.reduce((s, b) => s + b.genWh, 0), con = buckets.reduce((s, b) => s + b.conWh, 0);
const out = { interval: process.argv[1], simulatorGenKwh: own.genKwh, simulatorConKwh: own.conKwh, storedGenKwh: +(gen / 1000).toFixed(3), storedConKwh: +(con / 1000).toFixed(3), storedShareOfSimulator: +(gen / 1000 / own.genKwh).toFixed(4), ...(truth && { ruleGenKwh: truth.genWh / 1000, ruleConKwh: truth.conWh / 1000, ruleFinalThrough: truth.finalThrough }) };
console.log(JSON.stringify(out));
' "$interval"
