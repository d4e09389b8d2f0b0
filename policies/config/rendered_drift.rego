# What it does
#   Flags every file under `spec.output` that differs from what the spec and the lock
#   render: edited, deleted or added by hand. `meshplan check` re-renders the lock as
#   committed and passes the comparison as `input.rendered.drift`.
#
# Why is this bad?
#   meshplan owns the output directory: the next `meshplan render` or `meshplan commit`
#   replaces it and silently undoes the hand edit, and the lock no longer describes what
#   Argo CD or Flux apply, so the next step is planned from a state the cluster does not have.
#
# Example
#   Changing `replicaCount` in `rendered/istio-ingress/ingress-blue.yaml` by hand.
#
# Fix
#   Revert the edit and change `meshplan.yaml` instead, then run `meshplan render` (or
#   `meshplan commit`) so the files and the lock change together.
package meshplan.config.rendered_drift

metadata := {
	"code": "MP502",
	"name": "rendered-drift",
	"severity": "deny",
	"title": "Rendered files edited by hand",
	"description": "A file under spec.output differs from what the spec and the lock render.",
	"remediation": "Revert the hand edit, or change meshplan.yaml and re-run meshplan render.",
}

detail := {
	"modified": "differs from what spec and lock render (edited by hand?)",
	"missing": "is missing but spec and lock render it (deleted by hand?)",
	"extra": "is not part of what spec and lock render (added by hand?)",
}

deny contains {"msg": msg, "hint": hint} if {
	some d in input.rendered.drift
	msg := sprintf("%s %s", [d.file, detail[d.kind]])
	hint := "re-run meshplan render or revert the edit"
}
