# What it does
#   Flags a target Istio version that is not in the release catalogue meshplan ships.
#
# Why is this bad?
#   meshplan checks hops, end-of-life dates and Kubernetes support against that
#   catalogue. For an unknown version it cannot: the version may be a typo, not released
#   yet, or newer than the binary.
#
# Example
#   `istio.version: 1.24.99`.
#
# Fix
#   Correct the version, or pass a newer catalogue with `--catalog FILE`.
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
