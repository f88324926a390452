#!/usr/bin/env bash
# Benchmark: `mirt bundle create` (store mode) against `b3sum` over the same
# files, in the same run, page cache warm. Reports medians and throughput
# ratios (ratio mirt / X = median time of X / median time of mirt).
#
# What each command does with the same files:
#   mirt             the bundle: BLAKE3 + SHA-256 + CRC-32 of every byte, a
#                    copy of every byte in the archive, synced (fsync) before
#                    it is renamed into place
#   b3sum            BLAKE3 only, on all cores, memory-mapped; writes nothing
#   b3sum-1t         the same on one thread (`--num-threads 1`)
#   b3sum+sha256sum  the same two digests with the usual tools, one after the
#                    other (coreutils' sha256sum does not use the CPU's SHA
#                    instructions)
#   copy+sync        `cat` of all files into one file next to the bundle, then
#                    `sync` of that file: a durable copy with no hashing at
#                    all, the floor for anything that writes one
# Optional: MIRT_BASELINE=/path/to/an/older/mirt adds `mirt-baseline`, for
# before/after figures from the same run.
#
# The machine this runs on may be shared: hyperfine is run ROUNDS times over
# all commands in turn, so a change in load hits every command alike, and
# the medians are taken over all runs. CPU time (user + system, means) is
# reported too: it depends much less on what else runs.
#
# Needs: hyperfine (Debian), b3sum (`cargo install b3sum`), python3, and a
# release build (`cargo build --release -p mirt`).
# Env: BENCH_DIR (scratch folder on the file system to write bundles to,
#      default $TMPDIR/mirt-bench-bundle), BENCH_FILES / BENCH_FILE_MB
#      (generated data set, default 16 x 64 MiB), MIRT_CORPUS (the real
#      corpus; a second data set if present), RUNS (runs per round, default
#      3), ROUNDS (default 3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mirt="${MIRT_BIN:-$root/target/release/mirt}"
baseline="${MIRT_BASELINE:-}"
scratch="${BENCH_DIR:-${TMPDIR:-/tmp}/mirt-bench-bundle}"
files="${BENCH_FILES:-16}"
file_mb="${BENCH_FILE_MB:-64}"
runs="${RUNS:-3}"
rounds="${ROUNDS:-3}"
corpus="${MIRT_CORPUS:-$root/../shared/corpus}"

for tool in hyperfine b3sum sha256sum python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[ -x "$mirt" ] || { echo "build first: cargo build --release -p mirt" >&2; exit 1; }

mkdir -p "$scratch/large" "$scratch/out"
export MIRT_KEYS_DIR="$scratch/keys"
[ -f "$MIRT_KEYS_DIR/signing.key" ] || "$mirt" keys generate --name bench >/dev/null 2>&1
for i in $(seq 1 "$files"); do
  f="$scratch/large/file$i.bin"
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -eq $((file_mb << 20)) ] && continue
  head -c $((file_mb << 20)) /dev/urandom > "$f"
done

bench() { # name folder
  local name="$1" data="$2" bytes
  local list="$scratch/$name.files"
  find "$data" -type f -print0 | sort -z > "$list"
  bytes=$(find "$data" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  xargs -0 -a "$list" cat > /dev/null # warm the page cache
  local out="$scratch/out/$name.mirt.zip" copy="$scratch/out/$name.copy"
  local create="bundle create --case bench --examiner bench --municipality bench '$data' -q"
  local cmds=(
    -n mirt "'$mirt' $create -o '$out'"
    -n b3sum "xargs -0 -a '$list' b3sum > /dev/null"
    -n b3sum-1t "xargs -0 -a '$list' b3sum --num-threads 1 > /dev/null"
    -n b3sum+sha256sum "xargs -0 -a '$list' b3sum > /dev/null && xargs -0 -a '$list' sha256sum > /dev/null"
    -n copy+sync "xargs -0 -a '$list' cat > '$copy' && sync '$copy'"
  )
  [ -n "$baseline" ] && cmds+=(-n mirt-baseline "'$baseline' $create -o '$out'")
  rm -f "$scratch/$name".*.json # figures of an earlier run
  for r in $(seq 1 "$rounds"); do
    hyperfine --style none --warmup 1 --runs "$runs" --export-json "$scratch/$name.$r.json" \
      --prepare "rm -f '$out' '$copy'" "${cmds[@]}" > /dev/null
  done
  rm -f "$out" "$copy"
  python3 - "$name" "$bytes" "$scratch/$name".*.json <<'PY'
import json, statistics, sys
name, size, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times, cpu = {}, {}
for p in paths:
    for r in json.load(open(p))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
        cpu.setdefault(r["command"], []).append(r["user"] + r["system"])
med = {k: statistics.median(v) for k, v in times.items()}
cpu = {k: statistics.median(v) for k, v in cpu.items()}
print(f"data set {name}: {size / 2**20:.0f} MiB, {len(times['mirt'])} runs each")
print(f"  {'command':16s} {'median':>8s} {'MiB/s':>7s} {'cpu':>7s} {'mirt/X':>7s} {'cpu X/mirt':>10s}")
for k, t in med.items():
    print(f"  {k:16s} {t:7.3f}s {size / t / 2**20:7.0f} {cpu[k]:6.3f}s"
          f" {t / med['mirt']:7.2f} {cpu[k] / cpu['mirt']:10.2f}")
print(f"  throughput ratio mirt / b3sum: {med['b3sum'] / med['mirt']:.2f}"
      f" (one thread: {med['b3sum-1t'] / med['mirt']:.2f},"
      f" b3sum+sha256sum: {med['b3sum+sha256sum'] / med['mirt']:.2f})")
PY
}

nproc | sed 's/^/cores: /'
uptime
findmnt -n -o FSTYPE,SOURCE -T "$scratch/out" | sed 's/^/output file system: /'
bench large "$scratch/large"
if [ -d "$corpus" ]; then
  bench corpus "$corpus"
else
  echo "skipped: corpus not found at $corpus"
fi
