#!/usr/bin/env bash
# mirt evtx against evtx_dump (the evtx crate's own CLI), side by side in
# one run, over the whole EVTX corpus: single-threaded and with all cores.
# Prints medians (hyperfine), records/s, the ratios, and peak memory.
#
#   cargo build --release -p mirt
#   cargo install evtx --version 0.15.1 --locked   # evtx_dump
#   apt-get install hyperfine
#   bash benches/evtx/bench.sh [EVTX_DIR]
#
# evtx_dump reads one file per run, so it is run once per file, in a loop;
# mirt reads the whole tree in one run. That is how each is used on a
# collected tree, and the figures include it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${MIRT_CORPUS:-$root/../shared/corpus}
dir=${1:-$corpus/evtx}
mirt=${MIRT_BIN:-$root/target/release/mirt}
runs=${RUNS:-10}
for tool in "$mirt" evtx_dump hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

find "$dir" -type f \( -iname '*.evtx' \) | sort > "$work/files"
cat > "$work/dump-all.sh" <<SH
#!/usr/bin/env bash
while IFS= read -r f; do evtx_dump -o jsonl -t "\$1" "\$f" 2>/dev/null; done < "$work/files"
SH
chmod +x "$work/dump-all.sh"

records=$("$mirt" evtx -q "$dir" | wc -l)
dumped=$("$work/dump-all.sh" 0 | wc -l)
echo "files: $(wc -l < "$work/files"), records: mirt $records, evtx_dump $dumped"

hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/times.json" \
  -n "mirt (1 thread)" "$mirt --threads 1 evtx -q --output /dev/null $dir" \
  -n "evtx_dump (1 thread)" "$work/dump-all.sh 1" \
  -n "mirt (all cores)" "$mirt evtx -q --output /dev/null $dir" \
  -n "evtx_dump (all cores)" "$work/dump-all.sh 0" >/dev/null

peak_dump() {
  local max=0 m
  while IFS= read -r f; do
    /usr/bin/time -o "$work/t" -f "%M" evtx_dump -t "$1" -o jsonl "$f" >/dev/null 2>&1 || true
    m=$(tail -1 "$work/t"); [[ $m =~ ^[0-9]+$ ]] && (( m > max )) && max=$m
  done < "$work/files"
  echo "$max"
}
peak_mirt() {
  /usr/bin/time -o "$work/t" -f "%M" "$mirt" --threads "$1" evtx -q --output /dev/null "$dir"
  tail -1 "$work/t"
}
# The same on the largest single file, where process start-up does not
# count and the per-record cost shows: rendering plus normalising (mirt)
# against rendering alone (evtx_dump).
big=$(while IFS= read -r f; do printf '%s\t%s\n' "$(stat -c %s "$f")" "$f"; done < "$work/files" | sort -n | tail -1 | cut -f2)
big_records=$("$mirt" evtx -q "$big" | wc -l)
hyperfine -N --warmup 3 --runs "$((runs * 3))" --export-json "$work/big.json" \
  -n "mirt, largest file (1 thread)" "$mirt --threads 1 evtx -q --output /dev/null $big" \
  -n "evtx_dump, largest file (1 thread)" "evtx_dump -t 1 -o jsonl $big" >/dev/null

cores=$(nproc)
mem_m1=$(peak_mirt 1); mem_d1=$(peak_dump 1)
mem_ma=$(peak_mirt "$cores"); mem_da=$(peak_dump 0)

python3 - "$work/big.json" "$big_records" "$big" <<'PY'
import json, sys
times = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
print(f"largest file: {sys.argv[3]} ({n} records)")
for name, r in times.items():
    print(f"  {name:36} median {r['median'] * 1000:7.1f} ms  {n / r['median']:10,.0f} records/s")
PY
python3 - "$work/times.json" "$records" "$mem_m1" "$mem_d1" "$mem_ma" "$mem_da" <<'PY'
import json, sys
times = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
records = int(sys.argv[2])
m1, d1, ma, da = map(int, sys.argv[3:7])
def med(name): return times[name]["median"]
print(f"{'command':24} {'median s':>9} {'records/s':>12}")
for name, r in times.items():
    print(f"{name:24} {r['median']:9.3f} {records / r['median']:12,.0f}")
for label, m, d, mm, dm in [("1 thread", "mirt (1 thread)", "evtx_dump (1 thread)", m1, d1),
                            ("all cores", "mirt (all cores)", "evtx_dump (all cores)", ma, da)]:
    print(f"{label}: records/s ratio mirt/evtx_dump = {med(d) / med(m):.2f} (>= 1.0 wanted); "
          f"peak memory mirt {mm / 1024:.1f} MiB, evtx_dump {dm / 1024:.1f} MiB, ratio {mm / dm:.2f} (<= 1.2 wanted)")
PY
