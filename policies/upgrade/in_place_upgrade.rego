# What it does
#   Warns when a step upgrades a revision in place across a minor version.
#
# Why is this bad?
#   An in-place upgrade replaces the only control plane: there is no canary to try the new
#   version on one namespace first, and no old revision to move back to if it misbehaves.
#
# Example
#   `upgrade.strategy: in-place`, revision `default` moves from 1.25.5 to 1.26.8.
#
# Fix
#   Use the revision strategy (the default), or accept the risk for this cluster by
#   turning the rule off in `spec.rules`.
package meshplan.upgrade.in_place_upgrade

import data.meshplan.lib.util

metadata := {
	"code": "MP106",
	"name": "in-place-upgrade",
	"severity": "warn",
	"title": "Minor upgrade in place",
	"description": "A minor upgrade uses the in-place strategy: no canary and no rollback.",
	"remediation": "Use upgrade.strategy: revision for minor upgrades.",
}

before_versions := util.versions_of(util.step_before)

warn contains util.step_finding(msg, hint) if {
	some r in util.step_after.revisions
	old := before_versions[r.name]
	util.minor_of(r.version) > util.minor_of(old)
	msg := sprintf("revision %s is upgraded in place from %s to %s: no canary and no rollback", [r.name, old, r.version])
	hint := "use spec.upgrade.strategy: revision for minor upgrades"
}
