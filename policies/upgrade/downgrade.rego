# What it does
#   Flags a spec whose Istio version is older than the version installed now, unless
#   `upgrade.allowDowngrade` is set. The planner refuses such a plan and records why in
#   `input.plan.problems`; this rule reports it.
#
# Why is this bad?
#   Istio supports upgrades, not downgrades: older control planes may not understand the
#   configuration (CRD fields, mesh config) newer ones wrote, and proxies would end up ahead
#   of their control plane, which Istio does not support.
#
# Example
#   The lock records revision `1-26-8`; the spec asks for `istio.version: 1.24.6`.
#
# Fix
#   Put the version back, or — for a deliberate rollback you have tested — set
#   `upgrade.allowDowngrade: true`.
package meshplan.upgrade.downgrade

metadata := {
	"code": "MP102",
	"name": "downgrade",
	"severity": "deny",
	"title": "Downgrade of the Istio version",
	"description": "The spec moves the mesh to an older Istio version than the one installed, and upgrade.allowDowngrade is not set.",
	"remediation": "Restore the version, or set upgrade.allowDowngrade for a deliberate, tested rollback.",
}

deny contains {"msg": p.message, "hint": hint} if {
	some p in object.get(input.plan, "problems", [])
	p.rule == "MP102"
	hint := "restore spec.istio.version, or set upgrade.allowDowngrade: true for a tested rollback"
}
