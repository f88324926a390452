#!/usr/bin/env bash
# Benchmark of `mirt logs` on a 1 GiB Apache combined log and a CSV log of
# the same size, built from corpus lines in a temporary folder.
#
#   benches/logs/run.sh [SIZE_MIB]
#
# Needs: hyperfine (Debian), python3 with polars (pip install polars), the
# corpus (MIRT_CORPUS or ../shared/corpus), and a release build of mirt
# (cargo build --release -p mirt). Prints medians and ratios measured in the
# same run: MB/s and lines/s with all cores, the ratio to `wc -l`, and the
# ratio to polars' CSV reader.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${MIRT_CORPUS:-$root/../shared/corpus}
mirt=${MIRT:-$root/target/release/mirt}
size_mib=${1:-1024}
runs=${RUNS:-3}
cores=$(nproc)

[ -x "$mirt" ] || { echo "build first: cargo build --release -p mirt" >&2; exit 1; }
python3 -c 'import polars' 2>/dev/null || { echo "install polars: pip install polars" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$root/benches/logs/make_inputs.py" "$corpus" "$tmp" $((size_mib << 20))
log=$tmp/access.log
csv=$tmp/access.csv
log_bytes=$(stat -c %s "$log")
log_lines=$(wc -l < "$log")
csv_bytes=$(stat -c %s "$csv")
csv_lines=$(wc -l < "$csv")
cat > "$tmp/polars_read.py" <<'PY'
import sys
import polars as pl
df = pl.read_csv(sys.argv[1], infer_schema_length=10000)
print(df.height, file=sys.stderr)
PY

echo "inputs: access.log $((log_bytes >> 20)) MiB, $log_lines lines; access.csv $((csv_bytes >> 20)) MiB, $csv_lines lines; $cores cores"
# Warm the page cache so every command reads from memory.
cat "$log" "$csv" > /dev/null

hyperfine --style basic --runs "$runs" --warmup 1 --export-json "$tmp/apache.json" \
  -n "wc -l" "wc -l $log" \
  -n "mirt logs --count" "$mirt logs $log --count -q" \
  -n "mirt logs (jsonl)" "$mirt logs $log -q -o /dev/null" >&2

hyperfine --style basic --runs "$runs" --warmup 1 --export-json "$tmp/csv.json" \
  -n "polars read_csv" "python3 $tmp/polars_read.py $csv" \
  -n "mirt logs --count (csv)" "$mirt logs $csv --count -q" \
  -n "mirt logs (csv, jsonl)" "$mirt logs $csv -q -o /dev/null" >&2

python3 - "$tmp/apache.json" "$tmp/csv.json" "$log_bytes" "$log_lines" "$csv_bytes" "$csv_lines" "$cores" <<'PY'
import json, sys
apache, csvj = (json.load(open(p))["results"] for p in sys.argv[1:3])
log_bytes, log_lines, csv_bytes, csv_lines, cores = map(int, sys.argv[3:8])

def get(rs, name):
    r = next(r for r in rs if r["command"] == name)
    # hyperfine exports the mean user and system times of the runs.
    cpu = r["user"] + r["system"]
    return r["median"], cpu

wc, _ = get(apache, "wc -l")
print(f"\nApache combined log, {log_bytes / 2**20:.0f} MiB, {log_lines} lines, {cores} cores (median wall, mean CPU)")
print("wall: elapsed time with all cores; CPU: user+system time; MB/s/core = bytes per CPU-second")
print(f"{'command':26} {'wall s':>7} {'MB/s':>7} {'lines/s':>11} {'vs wc -l':>9} {'CPU s':>7} {'MB/s/core':>10}")
for name in ["wc -l", "mirt logs --count", "mirt logs (jsonl)"]:
    t, cpu = get(apache, name)
    print(f"{name:26} {t:7.3f} {log_bytes / t / 1e6:7.0f} {log_lines / t:11.0f} {wc / t:8.3f}x {cpu:7.3f} {log_bytes / cpu / 1e6:10.0f}")
pl, pl_cpu = get(csvj, "polars read_csv")
print(f"\nCSV log, {csv_bytes / 2**20:.0f} MiB, {csv_lines} lines (median wall, mean CPU)")
print(f"{'command':26} {'wall s':>7} {'MB/s':>7} {'vs polars':>10} {'CPU s':>7} {'CPU vs polars':>14}")
for name in ["polars read_csv", "mirt logs --count (csv)", "mirt logs (csv, jsonl)"]:
    t, cpu = get(csvj, name)
    print(f"{name:26} {t:7.3f} {csv_bytes / t / 1e6:7.0f} {pl / t:9.2f}x {cpu:7.3f} {pl_cpu / cpu:13.2f}x")
PY
