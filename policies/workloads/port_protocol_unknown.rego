# What it does
#   Flags a Service selecting injected pods with ports whose protocol Istio cannot tell:
#   no `appProtocol` and a name without a protocol prefix (`http-`, `grpc-`, ...). One
#   finding per Service names every such port.
#
# Why is this bad?
#   Istio then sniffs the protocol, which adds latency, breaks server-first protocols
#   (MySQL, SMTP) and may change behaviour between versions.
#
# Example
#   Service `shop/cart` with a port `{name: web, port: 8080}`.
#
# Fix
#   Set `appProtocol` (e.g. `http`) or name the port with a protocol prefix
#   (`http-web`).
package meshplan.workloads.port_protocol_unknown

metadata := {
	"code": "MP311",
	"name": "port-protocol-unknown",
	"severity": "warn",
	"title": "Service port with no protocol Istio can tell",
	"description": "A Service selecting injected pods has a port whose protocol Istio cannot tell (no appProtocol, name without a protocol prefix).",
	"remediation": "Set appProtocol on the port, or name it with a protocol prefix such as http- or grpc-.",
}

# One finding per Service, naming each port Istio cannot tell: a Service is fixed in one
# edit, and a repository-wide naming convention should not drown the report.
warn contains {"msg": msg, "object": svc.object, "hint": hint} if {
	some svc in input.facts.services
	svc.selectsInjected == true
	unknown := [sprintf("%v (name %q)", [port.port, port.name]) | some port in svc.ports; port.protocol == "unknown"]
	count(unknown) > 0
	msg := message(unknown)
	hint := "set appProtocol or prefix the port name with its protocol, e.g. http-web"
}

message(unknown) := sprintf("port %s has no protocol Istio can tell, so traffic is sniffed", [unknown[0]]) if count(unknown) == 1

message(unknown) := sprintf("ports %s have no protocol Istio can tell, so traffic is sniffed", [concat(", ", unknown)]) if count(unknown) > 1
