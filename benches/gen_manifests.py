#!/usr/bin/env python3
"""Generates a synthetic GitOps repository of N Kubernetes objects for benchmarks.

Objects come in groups of four (Deployment, Service, PodDisruptionBudget, ConfigMap) spread
over 100 namespaces, shaped like the corpus: probes on most containers, some multi-replica
workloads without PDBs, a few Jobs. By default files hold 100 objects each; `--files F`
spreads the same objects over F files instead (1 gives one large file), so the layout can
vary while the objects stay the same. Deterministic: the same arguments give the same bytes.

Usage: gen_manifests.py N OUT_DIR [--files F]
"""
import os
import sys

def main():
    args = sys.argv[1:]
    files = None
    if "--files" in args:
        i = args.index("--files")
        files = int(args[i + 1])
        del args[i:i + 2]
    n = int(args[0])
    out = args[1]
    namespaces = 100
    os.makedirs(os.path.join(out, "apps"), exist_ok=True)
    groups = max(1, n // 4)
    per_file = 25  # groups per file => 100 objects per file
    spec_ns = "\n".join(
        f"    - name: ns-{i:03d}\n      labels: {{tier: t{i % 10}}}" for i in range(namespaces)
    )
    waves = "\n".join(
        f"      - name: w{t}\n        namespaceSelector: {{matchLabels: {{tier: t{t}}}}}" for t in range(10)
    )
    with open(os.path.join(out, "meshplan.yaml"), "w") as f:
        f.write(f"""apiVersion: meshplan.dev/v1alpha1
kind: Mesh
metadata:
  name: bench
spec:
  kubernetesVersion: "1.30"
  istio:
    version: 1.26.8
  upgrade:
    maxRestartsPerStep: 100000
    waves:
{waves}
  namespaces:
{spec_ns}
  manifests:
    - "apps/*.yaml"
""")
    fh = None
    current = None
    for g in range(groups):
        # Contiguous runs of groups per file, so each file's objects stay together.
        file_no = g // per_file if files is None else g * files // groups
        if file_no != current:
            if fh:
                fh.close()
            current = file_no
            fh = open(os.path.join(out, "apps", f"f{file_no:05d}.yaml"), "w")
        ns = f"ns-{g % namespaces:03d}"
        name = f"app-{g:06d}"
        replicas = 1 + g % 3
        probe = "" if g % 7 == 0 else """
          readinessProbe:
            httpGet: {path: /healthz, port: 8080}"""
        kind = "Job" if g % 50 == 0 else "Deployment"
        if kind == "Job":
            body = f"""apiVersion: batch/v1
kind: Job
metadata: {{name: {name}, namespace: {ns}}}
spec:
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: example/{name}:1.0{probe}
"""
        else:
            body = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}, version: v1}}
    spec:
      containers:
        - name: main
          image: example/{name}:1.0
          ports:
            - containerPort: 8080{probe}
"""
        pdb = "" if g % 5 == 0 else f"""---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: {name}, namespace: {ns}}}
spec:
  maxUnavailable: {1 if g % 11 else 0}
  selector:
    matchLabels: {{app: {name}}}
"""
        port_name = "web" if g % 13 == 0 else "http"
        fh.write(f"""---
{body}---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{app: {name}}}
  ports:
    - name: {port_name}
      port: 80
      targetPort: 8080
{pdb}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}-config, namespace: {ns}}}
data:
  settings.yaml: "level: info"
""")
    if fh:
        fh.close()

if __name__ == "__main__":
    main()
