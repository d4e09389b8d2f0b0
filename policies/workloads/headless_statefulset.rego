# What it does
#   Lists each injected StatefulSet reached through a headless Service.
#
# Why is this bad?
#   Through a headless Service clients connect to pod IPs directly; the proxy then
#   routes per endpoint and endpoint updates during a restart are seen late, so clients
#   may keep connecting to a pod that is going away while it moves to a new revision.
#
# Example
#   StatefulSet `db/postgres` selected by the headless Service `db/postgres-headless`.
#
# Fix
#   Nothing to change necessarily: restart the StatefulSet in a quiet period and check
#   clients reconnect; make sure its ports declare their protocol.
package meshplan.workloads.headless_statefulset

import data.meshplan.lib.util

metadata := {
	"code": "MP312",
	"name": "headless-statefulset",
	"severity": "info",
	"title": "Injected StatefulSet behind a headless Service",
	"description": "An injected StatefulSet is reached through a headless Service (endpoint updates, client-side load balancing), which needs care during its restart.",
	"remediation": "Restart it in a quiet period and check that clients reconnect; declare port protocols.",
}

info contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.injected == true
	w.object.kind == "StatefulSet"
	some svc in w.headlessServices
	msg := sprintf("clients reach these pods through the headless Service %s, so a restart moves endpoints under them", [svc])
	hint := "restart it in a quiet period and check that clients reconnect"
}
