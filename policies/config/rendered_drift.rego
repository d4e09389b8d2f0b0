# What it does
#   Flags every file under `spec.output` that differs from what meshplan last rendered
#   there: edited, deleted or added by hand, or left behind when `meshplan.lock` was
#   deleted. `meshplan check` compares the committed files with the sha256 digests the lock
#   recorded when they were rendered (a lock written before digests existed is re-rendered
#   instead) and passes the comparison as `input.rendered.drift`. An edit of the spec is a
#   plan, never drift, and neither is a newer meshplan that renders a byte differently.
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
	"description": "A file under spec.output differs from what meshplan last rendered there (the digests in the lock), or files remain there without a lock.",
	"remediation": "Revert the hand edit, or change meshplan.yaml and re-run meshplan render.",
}

detail := {
	"modified": "differs from what meshplan rendered there (edited by hand?)",
	"missing": "is missing but meshplan rendered it (deleted by hand?)",
	"extra": "is not part of what meshplan rendered (added by hand?)",
	"no-lock": "is missing but files meshplan renders remain beside it (deleted by hand?): without it the plan starts from an empty cluster",
}

deny contains {"msg": msg, "hint": hint} if {
	some d in input.rendered.drift
	msg := sprintf("%s %s", [d.file, detail[d.kind]])
	hint := "re-run meshplan render or revert the edit"
}
