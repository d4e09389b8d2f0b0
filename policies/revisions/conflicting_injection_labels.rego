# What it does
#   Flags a namespace labelled with both `istio-injection` and `istio.io/rev`.
#
# Why is this bad?
#   Istio's webhooks give `istio-injection` precedence: the `istio.io/rev` label is
#   ignored, so moving the namespace to a new revision by relabelling it does nothing.
#
# Example
#   Namespace `shop` with `istio-injection: enabled` and `istio.io/rev: 1-24-3`.
#
# Fix
#   Remove `istio-injection` and keep only `istio.io/rev` (meshplan manages it for the
#   namespaces in `spec.namespaces`).
package meshplan.revisions.conflicting_injection_labels

import data.meshplan.lib.util

metadata := {
	"code": "MP204",
	"name": "conflicting-injection-labels",
	"severity": "warn",
	"title": "Namespace has both istio-injection and istio.io/rev",
	"description": "A namespace has both istio-injection and istio.io/rev labels; istio-injection wins, so revision changes have no effect.",
	"remediation": "Remove the istio-injection label and keep istio.io/rev.",
}

warn contains util.namespace_finding(ns, msg, hint) if {
	some ns in input.facts.namespaces
	injection := object.get(ns, "injectionLabel", null)
	rev := object.get(ns, "revLabel", null)
	injection != null
	rev != null
	msg := sprintf("istio-injection=%s takes precedence over istio.io/rev=%s, so the revision label is ignored", [injection, rev])
	hint := "remove the istio-injection label"
}
