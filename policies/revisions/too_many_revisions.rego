# What it does
#   Flags a step after which more revisions are installed than `upgrade.maxRevisions`
#   (default 2) allows.
#
# Why is this bad?
#   Every istiod revision is a full control plane: memory, CPU, webhooks and watches on
#   the API server. More than two at once usually means an upgrade was started before the
#   previous one was cleaned up, and namespaces are spread over several revisions.
#
# Example
#   Revisions `1-22-8`, `1-24-6` and `1-26-8` all installed after an `install` step.
#
# Fix
#   Finish the running upgrade (its `cleanup` step) before starting the next, or raise
#   `upgrade.maxRevisions` if you run more revisions on purpose.
package meshplan.revisions.too_many_revisions

import data.meshplan.lib.util

metadata := {
	"code": "MP203",
	"name": "too-many-revisions",
	"severity": "warn",
	"title": "More revisions installed than allowed",
	"description": "More than upgrade.maxRevisions (default 2) revisions are installed at once after the step.",
	"remediation": "Finish the running upgrade with its cleanup step, or raise upgrade.maxRevisions.",
}

warn contains util.step_finding(msg, hint) if {
	limit := object.get(input.spec.upgrade, "maxRevisions", 2)
	installed := count(util.step_after.revisions)
	installed > limit
	names := concat(", ", sort([r.name | some r in util.step_after.revisions]))
	msg := sprintf("%d revisions are installed after this step (%s), more than maxRevisions (%d)", [installed, names, limit])
	hint := "finish the running upgrade's cleanup step first, or raise spec.upgrade.maxRevisions"
}
