# What it does
#   Flags a moving, injected Deployment or StatefulSet with more than one replica that
#   no PodDisruptionBudget selects.
#
# Why is this bad?
#   Moving a workload to a new revision restarts all its pods. Without a PDB, node
#   drains and autoscaler evictions during the rollout may take every replica down at
#   once, turning a routine upgrade into an outage.
#
# Example
#   A Deployment `shop/cart` with `replicas: 3` and no PodDisruptionBudget whose
#   selector matches its pod labels, in a namespace of the next wave.
#
# Fix
#   Add a PodDisruptionBudget selecting the pods, e.g. `maxUnavailable: 1`, or waive the
#   workload in `spec.exceptions` if it really tolerates losing every replica.
package meshplan.workloads.missing_pdb

import data.meshplan.lib.util

metadata := {
	"code": "MP301",
	"name": "missing-pdb",
	"severity": "deny",
	"title": "Moving workload without a PodDisruptionBudget",
	"description": "A moving injected Deployment or StatefulSet with more than one replica has no PodDisruptionBudget selecting its pods, so the restart of the upgrade can take every replica down at once.",
	"remediation": "Add a PodDisruptionBudget (e.g. maxUnavailable: 1) selecting the workload's pods.",
}

controllers := {"Deployment", "StatefulSet"}

deny contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	util.moving_injected(w)
	w.object.kind in controllers
	w.replicas > 1
	count(w.pdbs) == 0
	msg := sprintf("no PodDisruptionBudget covers the %d replicas this step restarts", [w.replicas])
	hint := "add a PodDisruptionBudget with maxUnavailable: 1 selecting these pods"
}
