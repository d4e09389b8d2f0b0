# What it does
#   Flags a step that removes the gateway colour the traffic Service selects.
#
# Why is this bad?
#   The traffic Service keeps selecting the removed colour's pods; when they are gone,
#   every request to the mesh's entry point fails.
#
# Example
#   A `cleanup` step removes `blue` while the traffic Service of `istio-ingress/ingress`
#   still selects `blue` (the `gateway` step was skipped).
#
# Fix
#   Render the `gateway` step, which switches the traffic Service to the new colour,
#   before the `cleanup` step.
package meshplan.gateways.active_gateway_removed

import data.meshplan.lib.util

metadata := {
	"code": "MP404",
	"name": "active-gateway-removed",
	"severity": "deny",
	"title": "Active gateway colour removed",
	"description": "A step removes the colour that the traffic Service selects.",
	"remediation": "Switch the traffic Service to the other colour before removing this one.",
}

deny contains util.gateway_finding(gateway, msg, hint) if {
	some gateway, state in util.step_after.gateways
	util.step_before.gateways[gateway].colours[state.active]
	not state.colours[state.active]
	msg := sprintf("this step removes the %s colour of gateway %s while its traffic Service still selects it", [state.active, gateway])
	hint := "run the gateway step (switch the traffic Service) before the cleanup step"
}
