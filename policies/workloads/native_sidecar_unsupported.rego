# What it does
#   Flags a spec that forces native sidecars on (`nativeSidecars: enabled`) for a
#   Kubernetes version below 1.29.
#
# Why is this bad?
#   Native sidecars are init containers with `restartPolicy: Always`, which Kubernetes
#   supports (beta, on by default) only from 1.29. On older clusters injected pods fail
#   to start or run without a working proxy.
#
# Example
#   `kubernetesVersion: "1.28"` with `istio.config.nativeSidecars: enabled`.
#
# Fix
#   Use `nativeSidecars: auto` (on only for Istio >= 1.27 on Kubernetes >= 1.33) or
#   `disabled`, or upgrade Kubernetes first.
package meshplan.workloads.native_sidecar_unsupported

import data.meshplan.lib.util

metadata := {
	"code": "MP308",
	"name": "native-sidecar-unsupported",
	"severity": "deny",
	"title": "Native sidecars forced on an old Kubernetes",
	"description": "Native sidecars are forced on (nativeSidecars: enabled) but the Kubernetes version is below 1.29.",
	"remediation": "Set nativeSidecars to auto or disabled, or upgrade Kubernetes to 1.29 or later first.",
}

deny contains {"msg": msg, "hint": hint} if {
	input.spec.istio.config.nativeSidecars == "enabled"
	version := input.spec.kubernetesVersion
	util.minor_of(version) < 29
	msg := sprintf("native sidecars are forced on but Kubernetes %s supports them only from 1.29", [version])
	hint := "set spec.istio.config.nativeSidecars to auto or disabled"
}
