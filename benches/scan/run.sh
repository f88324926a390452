#!/usr/bin/env bash
# mirt scan against the tools responders use today, side by side in one run:
#   1. YARA:  mirt scan (YARA-X + BLAKE3 + SHA-256)   vs  yr scan (YARA-X only)
#   2. BLAKE3: mirt scan --no-rules (BLAKE3 + SHA-256) vs  b3sum
#   3. SHA-256: mirt scan --no-rules                   vs  openssl dgst -sha256
#   4. each of mirt's hashers alone, through the same read path
#      (crates/mirt-hash/examples/one_algorithm.rs) vs b3sum and openssl
# Same rules (signature-base, compiled once by each tool), same files (the
# corpus plus a system folder, regular files only), same thread count, warm
# page cache. Prints hyperfine medians and the throughput ratios
# (reference time / mirt time: above 1 means mirt is faster).
#
# Needs: hyperfine (Debian), yr (cargo install --locked yara-x-cli),
# b3sum (cargo install b3sum), openssl, jq, and a release build of mirt
# (cargo build --release -p mirt; cargo build --release -p mirt-hash
# --example one_algorithm).
#
# Environment: MIRT_CORPUS (default ../shared/corpus), BENCH_SYSTEM_DIR
# (default /usr/lib/x86_64-linux-gnu), BENCH_THREADS (default: cores),
# BENCH_RUNS (default 5), MIRT (default target/release/mirt).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${MIRT_CORPUS:-$root/../shared/corpus}
system=${BENCH_SYSTEM_DIR:-/usr/lib/x86_64-linux-gnu}
threads=${BENCH_THREADS:-$(nproc)}
runs=${BENCH_RUNS:-5}
mirt=${MIRT:-$root/target/release/mirt}
one=${MIRT_ONE_ALGORITHM:-$root/target/release/examples/one_algorithm}
rules=$corpus/yara/signature-base/yara

for tool in hyperfine yr b3sum openssl jq; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ -x "$mirt" ] || { echo "missing: $mirt (cargo build --release -p mirt)" >&2; exit 1; }
[ -x "$one" ] || { echo "missing: $one (cargo build --release -p mirt-hash --example one_algorithm)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The same regular files for every tool (mirt lists these itself: it does
# not follow symlinks and passes over special files).
find "$corpus" "$system" -type f -print0 | sort -z > "$work/files0"
tr '\0' '\n' < "$work/files0" > "$work/files"
count=$(wc -l < "$work/files")
bytes=$(xargs -0 stat -c %s < "$work/files0" | awk '{s+=$1} END {print s}')
echo "tree: $count files, $((bytes / 1048576)) MiB ($corpus + $system); threads: $threads"
echo "mirt $("$mirt" --version | cut -d' ' -f2-), $(yr --version), $(b3sum --version), $(openssl version)"

# Compile once per tool, outside the timings.
ext=(-d filename='""' -d filepath='""' -d extension='""' -d filetype='""' -d owner='""')
yr compile "${ext[@]}" -o "$work/rules.yarc" "$rules" >/dev/null
export MIRT_CACHE_DIR="$work/cache"
"$mirt" scan -q --rules "$rules" --zip-depth 0 "$corpus/yara/plaso/test_pe.exe" >/dev/null

# Fair to each tool: yr and mirt over the same files without opening zip
# archives (yr does not); b3sum and openssl run across files in parallel
# with xargs -P (openssl is single-threaded, b3sum threads inside one file).
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/yara.json" \
    -n "yr scan" "yr scan --disable-console-logs -p $threads --scan-list -C $work/rules.yarc $work/files >/dev/null" \
    -n "mirt scan" "$mirt --threads $threads scan -q --zip-depth 0 --rules $rules $corpus $system >/dev/null"

hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/hash.json" \
    -n "b3sum" "xargs -0 -P $threads -n 512 b3sum --no-names < $work/files0 >/dev/null" \
    -n "openssl sha256" "xargs -0 -P $threads -n 512 openssl dgst -sha256 < $work/files0 >/dev/null" \
    -n "mirt scan --no-rules" "$mirt --threads $threads scan -q --no-rules --zip-depth 0 $corpus $system >/dev/null" \
    -n "mirt blake3 only" "$one blake3 $threads < $work/files0 >/dev/null" \
    -n "mirt sha256 only" "$one sha256 $threads < $work/files0 >/dev/null"

median() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median' "$1"; }
ratio() { awk -v r="$1" -v m="$2" 'BEGIN { printf "%.2f", r / m }'; }
mib_s() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.0f MiB/s", b / 1048576 / t }'; }

yr_t=$(median "$work/yara.json" "yr scan")
my_t=$(median "$work/yara.json" "mirt scan")
b3_t=$(median "$work/hash.json" "b3sum")
os_t=$(median "$work/hash.json" "openssl sha256")
mh_t=$(median "$work/hash.json" "mirt scan --no-rules")
m3_t=$(median "$work/hash.json" "mirt blake3 only")
m2_t=$(median "$work/hash.json" "mirt sha256 only")
echo
echo "median times and throughput ratios (reference / mirt; >= 1: mirt as fast or faster)"
printf '  %-40s %8.2f s  %s\n' "yr scan (YARA only)" "$yr_t" "$(mib_s "$yr_t")"
printf '  %-40s %8.2f s  %s\n' "mirt scan (YARA + BLAKE3 + SHA-256)" "$my_t" "$(mib_s "$my_t")"
printf '  %-40s %8.2f s  %s\n' "b3sum" "$b3_t" "$(mib_s "$b3_t")"
printf '  %-40s %8.2f s  %s\n' "openssl dgst -sha256" "$os_t" "$(mib_s "$os_t")"
printf '  %-40s %8.2f s  %s\n' "mirt scan --no-rules (BLAKE3 + SHA-256)" "$mh_t" "$(mib_s "$mh_t")"
printf '  %-40s %8.2f s  %s\n' "mirt, BLAKE3 alone" "$m3_t" "$(mib_s "$m3_t")"
printf '  %-40s %8.2f s  %s\n' "mirt, SHA-256 alone" "$m2_t" "$(mib_s "$m2_t")"
echo "  ratio vs yr scan:  $(ratio "$yr_t" "$my_t")"
echo "  ratio vs b3sum:    $(ratio "$b3_t" "$mh_t")"
echo "  ratio vs openssl:  $(ratio "$os_t" "$mh_t")"
echo "  BLAKE3 alone vs b3sum:    $(ratio "$b3_t" "$m3_t")"
echo "  SHA-256 alone vs openssl: $(ratio "$os_t" "$m2_t")"
both=$(awk -v a="$b3_t" -v b="$os_t" 'BEGIN { print a + b }')
echo "  ratio vs b3sum + openssl (both digests, two passes): $(ratio "$both" "$mh_t")"
