# What it does
#   Lists every Flux or Argo CD object that names a source meshplan cannot render offline:
#   a HelmRelease whose chart comes from a HelmRepository or an OCI registry, a Flux
#   Kustomization or an Argo CD Application whose source is another repository. The
#   `{flux: DIR}` and `{argocd: PATH}` entries of `spec.manifests` record them as
#   `input.facts.unrendered`.
#
# Why is this bad?
#   meshplan judges the workloads it can see. The Deployments such a release installs are
#   not in the inventory: no rule judges their PodDisruptionBudgets, probes or restarts,
#   and the plan does not restart them. The finding says so, so that a passing check is not
#   read as "every workload is safe".
#
# Example
#   `HelmRelease/podinfo/podinfo` with `chart.spec.sourceRef: {kind: HelmRepository, name:
#   podinfo}` in a repository loaded with `{flux: clusters/production}`.
#
# Fix
#   Pull the chart (`helm pull podinfo/podinfo --version 6.7.1 --untar --untardir charts`)
#   and pass `--chart-dir charts`: meshplan renders `charts/podinfo-6.7.1/` with the
#   release's values. Or accept the finding: it is informational.
package meshplan.config.unrendered_source

metadata := {
	"code": "MP504",
	"name": "unrendered-source",
	"severity": "info",
	"title": "Source not rendered offline",
	"description": "A Flux or Argo CD object names a remote chart or another repository; its workloads are not judged.",
	"remediation": "Pull the chart into a directory and pass --chart-dir, or accept that these workloads are not judged.",
}

info contains {"msg": msg, "object": u.object, "hint": hint} if {
	some u in object.get(input.facts, "unrendered", [])
	msg := sprintf("not rendered offline: %s", [u.reason])
	hint := "pull the chart and pass --chart-dir DIR (DIR/<chart>-<version>/ or .tgz)"
}
