#!/usr/bin/env bash
# mirt hunt (the full SigmaHQ Windows rule set) against mirt evtx (parsing
# alone) over the same EVTX tree, side by side in one hyperfine run:
# medians, the ratio (what hunting adds), events/s, and peak memory.
# Hunting is timed with the compiled rule set and the automata of the
# routes met loaded from the rule cache (every run after the first with
# these rules over this evidence), with the automata not yet stored (the
# first hunt of new evidence with cached rules; interleaved rounds only),
# and with --no-rule-cache (parsing and compiling every rule file, as a
# first run).
# Chainsaw and Hayabusa are not installable here; for scale, the issue
# gives about 9x and 13x the time of evtx_dump on attack-samples.
#
#   cargo build --release -p mirt
#   apt-get install hyperfine
#   bash benches/hunt/bench.sh [EVTX_DIR] [SIGMA_RULES_DIR]
#   (RUNS=N rounds; MIRT_BASE_BIN=older/mirt to time an older hunt alongside)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${MIRT_CORPUS:-$root/../shared/corpus}
dir=${1:-$corpus/evtx}
rules=${2:-$corpus/sigma/sigmahq/rules/windows}
mirt=${MIRT_BIN:-$root/target/release/mirt}
runs=${RUNS:-10}
for tool in "$mirt" hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MIRT_CACHE_DIR=$work/cache

hunt=("$mirt" hunt -q --no-builtin --rules "$rules" --output /dev/null "$dir")
events=$("$mirt" evtx -q "$dir" | wc -l)
"$mirt" hunt -q --no-builtin --rules "$rules" --summary "$work/summary.json" --output "$work/det.jsonl" "$dir"
python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
r = s["rules"]
print(f"events: {s['events']} in {s['files']} files; rules: {r['detection_rules']} loaded, "
      f"{r['failed']} not loaded; detections: {s['detections']} {dict(s['by_level'])}")
PY

hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/times.json" \
  -n "mirt evtx" "$mirt evtx -q --output /dev/null $dir" \
  -n "mirt hunt" "${hunt[*]}" \
  -n "mirt hunt --no-rule-cache" "${hunt[*]} --no-rule-cache" \
  -n "mirt hunt (rules only)" "$mirt hunt -q --no-builtin --rules $rules --list-rules --output /dev/null" \
  -n "mirt hunt (rules only, --no-rule-cache)" "$mirt hunt -q --no-builtin --rules $rules --list-rules --output /dev/null --no-rule-cache" >/dev/null

# The same three commands interleaved (evtx, hunt, hunt --no-rule-cache, and
# again): on a shared machine, load that drifts between hyperfine's blocks
# skews their ratio; interleaved runs share the drift.
# With MIRT_BASE_BIN (an older mirt), its hunt runs in the same rounds.
python3 - "$runs" "$mirt" "$dir" "$rules" "$MIRT_CACHE_DIR" "${MIRT_BASE_BIN:-}" <<'PY'
import glob, os, statistics, subprocess, sys, time
runs, mirt, evtx_dir, rules, cache, base = int(sys.argv[1]), *sys.argv[2:]
hunt = [mirt, "hunt", "-q", "--no-builtin", "--rules", rules, "--output", "/dev/null", evtx_dir]
cmds = {"evtx": [mirt, "evtx", "-q", "--output", "/dev/null", evtx_dir],
        "hunt": hunt, "fresh": hunt, "cold": hunt + ["--no-rule-cache"]}
if base:
    cmds["base"] = [base] + hunt[1:]
times = {k: [] for k in cmds}
for _ in range(runs):
    for k, c in cmds.items():
        if k == "fresh":
            # The automata built by earlier hunts, forgotten (this run
            # builds and stores them again).
            for f in glob.glob(os.path.join(cache, "sigma", "*.siga")):
                os.remove(f)
        t = time.perf_counter()
        subprocess.run(c, check=True)
        times[k].append(time.perf_counter() - t)
med = {k: statistics.median(v) for k, v in times.items()}
ratio = lambda k: statistics.median(h / e for h, e in zip(times[k], times["evtx"]))
print(f"interleaved, {runs} rounds: evtx {med['evtx']:.3f} s, hunt {med['hunt']:.3f} s, "
      f"automata not stored {med['fresh']:.3f} s, --no-rule-cache {med['cold']:.3f} s; "
      f"median of per-round ratios: {ratio('hunt'):.2f}x cached, "
      f"{ratio('fresh'):.2f}x automata not stored, {ratio('cold'):.2f}x --no-rule-cache")
if base:
    print(f"  {base}: hunt {med['base']:.3f} s, {ratio('base'):.2f}x")
PY

peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
evtx_peak=$(peak "$mirt" evtx -q --output /dev/null "$dir")
hunt_peak=$(peak "${hunt[@]}")
cold_peak=$(peak "${hunt[@]}" --no-rule-cache)

python3 - "$work/times.json" "$events" "$evtx_peak" "$hunt_peak" "$cold_peak" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
events = int(sys.argv[2])
med = {k: v["median"] for k, v in res.items()}
for k, v in res.items():
    rate = "" if "rules only" in k else f"  {events / v['median']:,.0f} events/s"
    print(f"{k:24} median {v['median']:.3f} s  (min {v['min']:.3f}, max {v['max']:.3f}){rate}")
print(f"hunt / evtx: {med['mirt hunt'] / med['mirt evtx']:.2f}x (rules cached), "
      f"{med['mirt hunt --no-rule-cache'] / med['mirt evtx']:.2f}x (--no-rule-cache)")
print(f"loading the rules alone: {med['mirt hunt (rules only)']:.3f} s cached, "
      f"{med['mirt hunt (rules only, --no-rule-cache)']:.3f} s compiled")
print(f"peak memory: mirt evtx {int(sys.argv[3]) / 1024:.0f} MiB, mirt hunt {int(sys.argv[4]) / 1024:.0f} MiB "
      f"(--no-rule-cache {int(sys.argv[5]) / 1024:.0f} MiB)")
PY
