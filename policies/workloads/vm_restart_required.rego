# What it does
#   Lists every moving WorkloadEntry (a VM or other workload outside Kubernetes).
#
# Why is this bad?
#   meshplan cannot restart a proxy outside the cluster. A VM keeps its old proxy until
#   someone reinstalls or restarts Istio on it, and the old revision cannot be removed
#   until then.
#
# Example
#   WorkloadEntry `legacy/billing-vm` in a namespace of the next wave.
#
# Fix
#   Plan a maintenance window to upgrade and restart the proxy on the VM after the step.
package meshplan.workloads.vm_restart_required

import data.meshplan.lib.util

metadata := {
	"code": "MP310",
	"name": "vm-restart-required",
	"severity": "info",
	"title": "VM proxy needs a manual restart",
	"description": "A WorkloadEntry (VM) on an upgraded revision needs a manual Istio restart in a maintenance window.",
	"remediation": "Upgrade and restart the proxy on the VM after the step.",
}

info contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.moving == true
	w.object.kind == "WorkloadEntry"
	msg := "the proxy on this VM must be upgraded and restarted by hand"
	hint := "restart Istio on the VM in a maintenance window after this step"
}
