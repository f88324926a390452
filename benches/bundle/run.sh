#!/usr/bin/env bash
# Benchmark: `mirt bundle create` (store mode) against `b3sum` over the same
# files, in the same hyperfine run, page cache warm. Reports medians and the
# throughput ratio mirt/b3sum (= median time of b3sum / median time of mirt).
#
# mirt does more than b3sum: it also computes SHA-256, CRC-32, and writes a
# copy of every byte into the bundle. For that reason the script also times
# `b3sum` followed by `sha256sum`, the cheapest way to get the same two hashes
# without a bundle, and `cat` of all files into one file: the cost of writing
# the copy alone, which no bundle can avoid (the floor for any bundler).
#
# Needs: hyperfine (Debian), b3sum (`cargo install b3sum`), python3, and a
# release build (`cargo build --release -p mirt`).
# Env: BENCH_DIR (scratch folder, default $TMPDIR/mirt-bench-bundle),
#      BENCH_FILES / BENCH_FILE_MB (generated data set, default 16 x 64 MiB),
#      MIRT_CORPUS (the real corpus; used as a second data set if present),
#      RUNS (hyperfine runs, default 5).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mirt="${MIRT_BIN:-$root/target/release/mirt}"
scratch="${BENCH_DIR:-${TMPDIR:-/tmp}/mirt-bench-bundle}"
files="${BENCH_FILES:-16}"
file_mb="${BENCH_FILE_MB:-64}"
runs="${RUNS:-5}"
corpus="${MIRT_CORPUS:-$root/../shared/corpus}"

for tool in hyperfine b3sum python3; do
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
  bytes=$(find "$data" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  local out="$scratch/out/$name.mirt.zip" json="$scratch/$name.json"
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$json" \
    --prepare "rm -f '$out' '$out.cat'" \
    -n mirt "'$mirt' bundle create --case bench --examiner bench --municipality bench '$data' -o '$out' -q" \
    -n b3sum "find '$data' -type f -print0 | xargs -0 b3sum > /dev/null" \
    -n b3sum+sha256sum "find '$data' -type f -print0 | xargs -0 b3sum > /dev/null; find '$data' -type f -print0 | xargs -0 sha256sum > /dev/null" \
    -n copy-only "find '$data' -type f -print0 | xargs -0 cat > '$out.cat'" \
    > "$scratch/$name.log"
  python3 - "$json" "$name" "$bytes" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
name, size = sys.argv[2], int(sys.argv[3])
med = {k: v["median"] for k, v in res.items()}
print(f"data set {name}: {size / 2**20:.0f} MiB")
cpu = {k: v["user"] + v["system"] for k, v in res.items()}
for k, t in med.items():
    print(f"  {k:18s} median {t:7.3f} s  {size / t / 2**20:8.0f} MiB/s   cpu {cpu[k]:6.3f} s")
print(f"  throughput ratio mirt / b3sum:            {med['b3sum'] / med['mirt']:.2f}")
print(f"  throughput ratio mirt / b3sum+sha256sum:  {med['b3sum+sha256sum'] / med['mirt']:.2f}")
print(f"  throughput ratio copy-only / b3sum:       {med['b3sum'] / med['copy-only']:.2f}  (the floor of writing a copy)")
print(f"  cpu-time ratio b3sum / mirt:              {cpu['b3sum'] / cpu['mirt']:.2f}  (less sensitive to a busy machine)")
PY
}

nproc | sed 's/^/cores: /'
uptime
bench large "$scratch/large"
rm -f "$scratch"/out/*
if [ -d "$corpus" ]; then
  bench corpus "$corpus"
  rm -f "$scratch"/out/*
else
  echo "skipped: corpus not found at $corpus"
fi
