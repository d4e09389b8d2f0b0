# What it does
#   Flags a target Istio version that is not in the release catalogue meshplan ships, and,
#   with `delivery: sail`, a target or hop version the Sail Operator release meshplan
#   renders for (1.30.3) does not install: one it does not know, or one it marks end of
#   life (it installs 1.28.0 to 1.30.3). The reason is in the message.
#
# Why is this bad?
#   meshplan checks hops, end-of-life dates and Kubernetes support against that
#   catalogue. For an unknown version it cannot: the version may be a typo, not released
#   yet, or newer than the binary. The Sail Operator installs only the versions its
#   release ships charts for: an end-of-life one is still accepted as `spec.version`, yet
#   nothing is installed, so the upgrade would stall after the merge; meshplan does not
#   render such a step (MP108 names it).
#
# Example
#   `istio.version: 1.24.99`; or `istio.version: 1.24.6` with `delivery: sail`.
#
# Fix
#   Correct the version, or pass a newer catalogue with `--catalog FILE`. With
#   `delivery: sail`, target a version the operator installs (upgrade the mesh with a Helm
#   delivery to 1.28 first, or upgrade the operator for a newer Istio).
package meshplan.upgrade.unknown_version

metadata := {
	"code": "MP107",
	"name": "unknown-version",
	"severity": "warn",
	"title": "Target version not in the release catalogue",
	"description": "The target version is not in the release catalogue the binary ships, so hops, end of life and Kubernetes support cannot be checked.",
	"remediation": "Fix the version, or supply a newer catalogue with --catalog FILE.",
}

warn contains {"msg": msg, "hint": hint} if {
	target := input.facts.versions.target
	target.known == false
	msg := sprintf("istio %s is not in the release catalogue, so its support and end of life are unchecked", [target.version])
	hint := "check the version for typos, or pass a newer catalogue with --catalog FILE"
}

warn contains {"msg": msg, "hint": hint} if {
	some fact in rendered_versions
	reason := fact.deliveryUnsupported
	msg := sprintf("istio %s cannot be installed by delivery %s: %s", [fact.version, delivery, reason])
	hint := "target a version the Sail Operator release installs, or upgrade the operator"
}

delivery := object.get(object.get(object.get(input, "spec", {}), "istio", {}), "delivery", "sail")

# The target and every version a hop renders: a set, so the target listed twice is one.
rendered_versions contains input.facts.versions.target

rendered_versions contains v if {
	some v in object.get(input.facts.versions, "installed", [])
}
