#!/usr/bin/env bash
# Scale benchmark of issue #16: generates repositories of 10k and 100k objects, as one file
# and as 1,000 files, and measures in one run `meshplan debug load` (spec + inventory only),
# `check`, `plan` and `facts` (all as JSON): wall, user and system time and max RSS, then the
# ratios the issue sets targets for (check/load time, 100k/10k time and memory, RSS/input).
#
# Usage: benches/check-scale.sh [--bin PATH] [--huge] [--sizes "N ..."] [--layouts "F ..."]
#   --bin PATH   measure this binary instead of building target/release/meshplan
#                (e.g. a copy of main's build, for a same-run baseline)
#   --huge       add 1,000,000 objects in 100 files (~230 MB of YAML; minutes, GBs of RAM)
#   --sizes      object counts (default "10000 100000")
#   --layouts    file counts per repository (default "1 1000")
# Prints a Markdown table on stdout. Each command runs once; run twice to see the noise.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=""
huge=0
sizes="10000 100000"
layouts="1 1000"
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --huge) huge=1; shift ;;
    --sizes) sizes="$2"; shift 2 ;;
    --layouts) layouts="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  cargo build --release --locked --quiet
  bin=target/release/meshplan
fi
bin=$(realpath "$bin")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The runs to make, as "objects files" pairs.
runs=()
for n in $sizes; do
  for f in $layouts; do runs+=("$n $f"); done
done
[ "$huge" = 0 ] || runs+=("1000000 100")

declare -A wall cpu rss
# The machine may be shared: its load average says how far wall time is from CPU time.
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg); binary: $bin"
echo
echo "| objects | files | input MB | command | wall s | user s | sys s | max RSS MiB | RSS/input |"
echo "|---:|---:|---:|---|---:|---:|---:|---:|---:|"
for run in "${runs[@]}"; do
  read -r n files <<<"$run"
  dir="$work/n$n-f$files"
  python3 benches/gen_manifests.py "$n" "$dir" --files "$files"
  bytes=$(cat "$dir"/apps/*.yaml | wc -c)
  objects=$("$bin" debug load -C "$dir" --max-manifest-bytes 4000000000 | awk '{print $1}')
  for what in load check plan facts; do
    case "$what" in
      load) cmd=("$bin" debug load -C "$dir") ;;
      check) cmd=("$bin" check -C "$dir" --today 2026-11-23 --format json --output "$work/report.json") ;;
      plan) cmd=("$bin" plan -C "$dir" --today 2026-11-23 --format json) ;;
      facts) cmd=("$bin" facts -C "$dir" --today 2026-11-23 --format json) ;;
    esac
    # One file of 100k objects is larger than the default 64 MiB limit in some shapes.
    cmd+=(--max-manifest-bytes 4000000000)
    # check exits 1 on findings, which the generated repository has on purpose.
    code=0
    # Without RUST_BACKTRACE, as in CI: with it, every error value captures a backtrace.
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
      "${cmd[@]}" >/dev/null 2>"$work/stderr" || code=$?
    if [ "$code" -gt 1 ]; then
      echo "$what failed with exit $code:" >&2
      cat "$work/stderr" >&2
      exit 1
    fi
    read -r secs user sys kb < <(tail -n 1 "$work/time")
    wall["$n/$files/$what"]=$secs
    cpu["$n/$files/$what"]=$(awk -v u="$user" -v y="$sys" 'BEGIN { print u + y }')
    rss["$n/$files/$what"]=$kb
    awk -v n="$objects" -v f="$files" -v b="$bytes" -v w="$what" -v s="$secs" -v u="$user" \
      -v y="$sys" -v k="$kb" 'BEGIN {
        printf "| %d | %d | %.1f | %s | %.2f | %.2f | %.2f | %.0f | %.1f× |\n",
          n, f, b / 1e6, w, s, u, y, k / 1024, k * 1024 / b }'
  done
done

# Targets: check ≤ 1.5× load; 100k/10k ≤ 11× in time and memory; RSS ≤ 3× input.
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# Time ratios are given for wall time and for CPU time (user + sys): on a shared machine the
# wall time of a run depends on what else runs, its CPU time much less.
echo "| ratio | wall | CPU | target |"
echo "|---|---:|---:|---:|"
for run in "${runs[@]}"; do
  read -r n files <<<"$run"
  w=$(ratio "${wall[$n/$files/check]}" "${wall[$n/$files/load]}")
  c=$(ratio "${cpu[$n/$files/check]}" "${cpu[$n/$files/load]}")
  echo "| check/load time, $n objects, $files files | $w× | $c× | ≤ 1.5× |"
done
set -- $sizes
if [ $# -ge 2 ]; then
  small=$1
  large=${!#}
  for f in $layouts; do
    for what in load check plan facts; do
      w=$(ratio "${wall[$large/$f/$what]}" "${wall[$small/$f/$what]}")
      c=$(ratio "${cpu[$large/$f/$what]}" "${cpu[$small/$f/$what]}")
      m=$(ratio "${rss[$large/$f/$what]}" "${rss[$small/$f/$what]}")
      echo "| $what $large/$small, $f files: time | $w× | $c× | ≤ 11× |"
      echo "| $what $large/$small, $f files: max RSS | $m× | | ≤ 11× |"
    done
  done
fi
