#!/usr/bin/env bash
# Measures `meshplan check` at 10k and 100k objects against parsing the same files alone
# (`meshplan debug load`, which loads spec + inventory and stops), in the same run, and
# prints wall time and peak memory (max RSS) of each, plus the ratio check/parse.
# Usage: benches/check-scale.sh [N ...]   (default: 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=target/release/meshplan
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-8s %-6s %10s %12s\n' objects what seconds max_rss_MiB
for n in "${sizes[@]}"; do
  dir="$work/n$n"
  python3 benches/gen_manifests.py "$n" "$dir"
  for what in load check; do
    if [ "$what" = load ]; then cmd=("$bin" debug load -C "$dir"); else cmd=("$bin" check -C "$dir" --today 2026-11-23 --format json --output "$work/report.json"); fi
    # exit 1 (findings) is expected for check
    /usr/bin/time -f '%e %M' -o "$work/time" "${cmd[@]}" >/dev/null || true
    read -r secs rss < <(tail -n 1 "$work/time")
    printf '%-8s %-6s %10s %12.1f\n' "$n" "$what" "$secs" "$(awk -v r="$rss" 'BEGIN{print r/1024}')"
  done
done
