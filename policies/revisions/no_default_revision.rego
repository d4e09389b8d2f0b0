# What it does
#   Flags each namespace labelled `istio-injection=enabled` while no revision is the
#   default (no `default` tag, no default revision).
#
# Why is this bad?
#   `istio-injection=enabled` is served only by the default revision's webhook. With
#   none, pods created in such a namespace start without a sidecar and fall out of the
#   mesh (mTLS STRICT peers then refuse them).
#
# Example
#   Namespace `legacy` with `istio-injection: enabled` when only revision `1-24-3`
#   is installed and `istio.revisionTags` does not contain `default`.
#
# Fix
#   Add `default` to `spec.istio.revisionTags`, or relabel the namespace with
#   `istio.io/rev`.
package meshplan.revisions.no_default_revision

import data.meshplan.lib.util

metadata := {
	"code": "MP206",
	"name": "no-default-revision",
	"severity": "deny",
	"title": "istio-injection=enabled with no default revision",
	"description": "Namespaces use istio-injection=enabled but no revision is the default (no default tag), so their pods are not injected.",
	"remediation": "Add the default tag (spec.istio.revisionTags: [default]) or label the namespace with istio.io/rev.",
}

no_default if object.get(input.facts, "defaultRevision", null) == null

deny contains util.namespace_finding(ns, msg, hint) if {
	no_default
	some ns in input.facts.namespaces
	object.get(ns, "injectionLabel", null) == "enabled"
	msg := "istio-injection=enabled needs a default revision, but none is installed, so new pods get no sidecar"
	hint := "add `default` to spec.istio.revisionTags or label the namespace with istio.io/rev"
}
