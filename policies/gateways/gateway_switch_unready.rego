# What it does
#   Flags a step after which a gateway's traffic Service selects a colour that does not
#   exist, or one running on a revision that is not installed.
#
# Why is this bad?
#   The separately owned LoadBalancer Service is the only way into the mesh. Pointing it at
#   a colour with no pods, or at pods whose control plane is gone, drops all ingress
#   traffic at once.
#
# Example
#   The `gateway` step switches `istio-ingress/ingress` to `green` before the `install`
#   step created the green deployment.
#
# Fix
#   Render the `install` step (which creates the idle colour on the new revision) and let
#   it become ready before the `gateway` step.
package meshplan.gateways.gateway_switch_unready

import data.meshplan.lib.util

metadata := {
	"code": "MP401",
	"name": "gateway-switch-unready",
	"severity": "deny",
	"title": "Traffic switched to a gateway colour that is not ready",
	"description": "The traffic Service is switched to a gateway colour that does not exist, or is on a revision not installed, after the step.",
	"remediation": "Install the new colour on an installed revision before switching the traffic Service to it.",
}

after_versions := util.versions_of(util.step_after)

deny contains util.gateway_finding(gateway, msg, hint) if {
	some gateway, state in util.step_after.gateways
	not state.colours[state.active]
	# A colour the step removed is MP404's case.
	not util.step_before.gateways[gateway].colours[state.active]
	msg := sprintf("gateway %s sends traffic to the %s colour, which does not exist", [gateway, state.active])
	hint := "install the colour (the install step) before the gateway step switches to it"
}

deny contains util.gateway_finding(gateway, msg, hint) if {
	some gateway, state in util.step_after.gateways
	revision := state.colours[state.active]
	not after_versions[revision]
	msg := sprintf("gateway %s sends traffic to the %s colour on revision %s, which is not installed", [gateway, state.active, revision])
	hint := "keep the colour's revision installed until traffic has moved off it"
}
