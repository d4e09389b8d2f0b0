# What it does
#   Flags a plan step that bumps the restart annotation of more workloads than
#   `upgrade.maxRestartsPerStep` (default 200).
#
# Why is this bad?
#   Restarting hundreds of workloads at once floods the scheduler, image registries and
#   istiod with new proxies, and makes a bad revision hit everything before anyone can
#   react. Small waves keep the blast radius reviewable.
#
# Example
#   A wave selecting 350 Deployments with the default budget of 200.
#
# Fix
#   Split the wave in `spec.upgrade.waves`, or raise `maxRestartsPerStep` deliberately.
package meshplan.workloads.restart_budget_exceeded

metadata := {
	"code": "MP309",
	"name": "restart-budget-exceeded",
	"severity": "deny",
	"title": "A step restarts too many workloads",
	"description": "A step bumps the restart annotation of more workloads than upgrade.maxRestartsPerStep (default 200).",
	"remediation": "Split the wave into smaller waves, or raise upgrade.maxRestartsPerStep.",
}

default budget := 200

budget := input.spec.upgrade.maxRestartsPerStep

deny contains {"msg": msg, "hint": hint, "step": step.name} if {
	some step in input.plan.steps
	object.get(step, "done", false) != true
	n := count(step.restarts)
	n > budget
	msg := sprintf("this step restarts %d workloads, more than maxRestartsPerStep (%d)", [n, budget])
	hint := "split the wave in spec.upgrade.waves"
}
