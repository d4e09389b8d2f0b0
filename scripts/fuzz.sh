#!/usr/bin/env bash
# Fuzzes every loader of meshplan (spec, manifests, lock, rendered gateway values) with the
# structured mutator of `meshplan debug fuzz`, SECONDS per target (default 3600), and prints
# the cases run and their outcomes. Exit 1 when any case panicked, ended in an internal
# error (exit 3) or wrote outside its repository. No nightly toolchain needed.
#
#   scripts/fuzz.sh            # an hour per target
#   scripts/fuzz.sh 60         # a minute per target
#   SEED=7 scripts/fuzz.sh 60  # another seed (case N of a seed is always the same input)
#   PROFILE=dev scripts/fuzz.sh 60   # reuse the debug build instead of building a release
set -euo pipefail
seconds="${1:-3600}"
seed="${SEED:-1}"
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
profile="${PROFILE:-release}"
cargo build --locked --quiet --profile "$profile"
bin="./target/$([ "$profile" = dev ] && echo debug || echo "$profile")/meshplan"
corpus="$here/../shared/data/corpus"
status=0
for target in spec manifests lock values; do
  args=(debug fuzz --target "$target" --seed "$seed" --seconds "$seconds" --examples examples)
  if [ -d "$corpus" ]; then args+=(--corpus "$corpus"); fi
  "$bin" "${args[@]}" || status=1
done
exit "$status"
