# What it does
#   Flags an injected pod template with `restartPolicy: Never`.
#
# Why is this bad?
#   With Istio CNI, a pod whose init or proxy setup fails is normally fixed by a container
#   restart; with `restartPolicy: Never` it is not restarted and can stay broken with no
#   network (istio#49210).
#
# Example
#   Pod `batch/report` with `restartPolicy: Never` in an injected namespace.
#
# Fix
#   Use `restartPolicy: OnFailure` where the workload allows it, or exclude the pod from
#   injection (`sidecar.istio.io/inject: "false"`).
package meshplan.workloads.restart_policy_never

import data.meshplan.lib.util

metadata := {
	"code": "MP306",
	"name": "restart-policy-never",
	"severity": "warn",
	"title": "Injected pod with restartPolicy Never",
	"description": "An injected pod template has restartPolicy: Never; with Istio CNI such a pod can stay broken (istio#49210).",
	"remediation": "Use restartPolicy: OnFailure, or disable injection for the pod.",
}

warn contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.injected == true
	w.restartPolicy == "Never"
	msg := "an injected pod with restartPolicy Never can stay broken when its network setup fails (istio#49210)"
	hint := "use restartPolicy: OnFailure or set sidecar.istio.io/inject: \"false\""
}
