# What it does
#   Flags a step that moves a control plane or a data plane forward by more minor versions
#   than Istio supports in one go: two for a revision-based (canary) hop, one for an
#   in-place upgrade; `upgrade.maxMinorSkip` can tighten both.
#
# Why is this bad?
#   Istio tests and supports upgrades across at most two minors with revisions and one in
#   place. Beyond that, the new control plane may not understand the old proxies'
#   configuration, and CRD or default changes of the skipped releases are never applied.
#
# Example
#   An `install` step adds revision `1-26-8` while every namespace still runs `1-22-8`
#   (four minors), e.g. when `--step all` is forced across hops.
#
# Fix
#   Let `meshplan plan` split the upgrade into hops (it uses the latest patch of each
#   intermediate minor) and render one step at a time.
package meshplan.upgrade.skipped_minor

import data.meshplan.lib.util

metadata := {
	"code": "MP101",
	"name": "skipped-minor",
	"severity": "deny",
	"title": "Step skips more minor versions than Istio supports",
	"description": "A step moves a control plane or a data plane forward by more minor versions than Istio supports: two for a revision-based hop, one in place, tightened by upgrade.maxMinorSkip.",
	"remediation": "Upgrade through intermediate minors, one hop per step sequence, as meshplan plan proposes.",
}

before_versions := util.versions_of(util.step_before)

after_versions := util.versions_of(util.step_after)

# An in-place upgrade of a revision: same name, newer version.
deny contains util.step_finding(msg, hint) if {
	some name, new in after_versions
	old := before_versions[name]
	skip := util.minor_of(new) - util.minor_of(old)
	limit := util.minor_skip_limit(true)
	skip > limit
	msg := sprintf("revision %s is upgraded in place from %s to %s, %d minors where at most %d are supported", [name, old, new, skip, limit])
	hint := "upgrade one minor at a time, or use the revision strategy"
}

# A new revision far ahead of the oldest control plane still installed.
deny contains util.step_finding(msg, hint) if {
	some name, new in after_versions
	not before_versions[name]
	count(before_versions) > 0
	oldest := min({util.minor_of(v) | some v in before_versions})
	skip := util.minor_of(new) - oldest
	limit := util.minor_skip_limit(false)
	skip > limit
	msg := sprintf("revision %s (%s) is installed beside a control plane %d minors older, where at most %d are supported", [name, new, skip, limit])
	hint := "let meshplan plan insert intermediate hops"
}

# A proxy restarted across too many minors.
deny contains util.step_finding(msg, hint) if {
	some key, after in util.step_after.workloads
	before := util.step_before.workloads[key]
	skip := util.minor_of(after.proxy) - util.minor_of(before.proxy)
	limit := util.minor_skip_limit(util.in_place_strategy)
	skip > limit
	msg := sprintf("the proxy of %s moves from %s to %s, %d minors where at most %d are supported", [key, before.proxy, after.proxy, skip, limit])
	hint := "restart it onto each intermediate hop's revision"
}
