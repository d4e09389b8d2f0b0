# What it does
#   Warns when a gateway colour is upgraded in place across a minor version: the same
#   colour (the pods the traffic Service selects) moves to a control plane of another minor.
#
# Why is this bad?
#   An in-place gateway upgrade restarts the pods that carry all ingress traffic onto a new
#   minor with no idle colour to fall back to; a regression in the new proxy hits every
#   request at once.
#
# Example
#   `gateways[].strategy: in-place`: `istio-ingress/ingress` `blue` moves from revision
#   `1-25-5` to `1-26-8`.
#
# Fix
#   Use `strategy: blue-green` with a separately owned traffic Service, so the new colour
#   is installed beside the old and traffic is switched in its own step.
package meshplan.gateways.gateway_in_place

import data.meshplan.lib.util

metadata := {
	"code": "MP403",
	"name": "gateway-in-place",
	"severity": "warn",
	"title": "Gateway upgraded in place across a minor",
	"description": "A gateway is upgraded in place across a minor version.",
	"remediation": "Use the blue-green gateway strategy behind a separately owned traffic Service.",
}

before_versions := util.versions_of(util.step_before)

after_versions := util.versions_of(util.step_after)

warn contains util.gateway_finding(gateway, msg, hint) if {
	some gateway, state in util.step_after.gateways
	some colour, revision in state.colours
	old_revision := util.step_before.gateways[gateway].colours[colour]
	old := before_versions[old_revision]
	new := after_versions[revision]
	util.minor_of(new) != util.minor_of(old)
	msg := sprintf("the %s colour of gateway %s moves in place from %s to %s", [colour, gateway, old, new])
	hint := "use strategy: blue-green so the new version runs beside the old"
}
