# Helpers shared by the built-in rules, so that every rule shapes its findings the same
# way: the object a finding is about, and the plan step that moves it.
package meshplan.lib.util

# moving_injected holds for a workload the judged change moves and that runs a sidecar.
moving_injected(w) if {
	w.moving == true
	w.injected == true
}

# step_of is the step that moves a workload, or null.
step_of(w) := object.get(w, "step", null)

# workload_finding is a finding about a workload, carrying the step that moves it.
workload_finding(w, msg, hint) := {
	"msg": msg,
	"object": w.object,
	"hint": hint,
	# step_of inlined: this runs once per finding, and a call costs more than the lookup.
	"step": object.get(w, "step", null),
}

# namespace_ref is the object reference of a namespace (cluster-scoped).
namespace_ref(ns) := {"apiVersion": "v1", "kind": "Namespace", "namespace": "", "name": ns.name}

# namespace_finding is a finding about a namespace.
namespace_finding(ns, msg, hint) := {"msg": msg, "object": namespace_ref(ns), "hint": hint}

# key is `Kind/namespace/name` (or `Kind/name` when cluster-scoped), as in plans and waivers.
key(obj) := sprintf("%s/%s/%s", [obj.kind, obj.namespace, obj.name]) if obj.namespace != ""

key(obj) := sprintf("%s/%s", [obj.kind, obj.name]) if obj.namespace == ""

# minor_of is the minor number of a "1.30" or "1.30.2" version string.
minor_of(version) := to_number(split(version, ".")[1])

# serving_kinds are the kinds whose pods sit behind Services and take traffic: readiness
# gates them. Jobs, CronJobs and VMs (WorkloadEntry) are left out.
serving_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod"}

# serves_traffic holds for a workload of a serving kind.
serves_traffic(w) if w.object.kind in serving_kinds

# step_before and step_after are the lock before and after the judged step (per-step
# evaluation only; undefined otherwise, so transition rules stay quiet).
step_before := input.step.before

step_after := input.step.after

# versions_of maps a lock's revision names to their Istio versions.
versions_of(lock) := {r.name: r.version | some r in lock.revisions}

# resolve is the revision a namespace label value names in a lock: a tag's target, or
# the value itself.
resolve(lock, value) := lock.tags[value]

resolve(lock, value) := value if not lock.tags[value]

# minor_skip_limit is how many minors one step may move: 2 for a revision-based (canary)
# hop, 1 in place, tightened by spec.upgrade.maxMinorSkip.
minor_skip_limit(in_place) := min({1, object.get(input.spec.upgrade, "maxMinorSkip", 1)}) if in_place

minor_skip_limit(in_place) := min({2, object.get(input.spec.upgrade, "maxMinorSkip", 2)}) if not in_place

# in_place_strategy is whether the spec upgrades in place (false when unset).
in_place_strategy := object.get(object.get(input.spec, "upgrade", {}), "strategy", "revision") == "in-place"

# step_finding is a finding about the judged step itself.
step_finding(msg, hint) := {"msg": msg, "hint": hint, "step": input.step.name}

# gateway_service_ref is the traffic Service meshplan renders for a gateway `namespace/name`:
# what the blue/green switch moves, so a gateway finding names it (and points at the
# gateway's entry in spec.gateways).
gateway_service_ref(gateway) := {
	"apiVersion": "v1",
	"kind": "Service",
	"namespace": split(gateway, "/")[0],
	"name": split(gateway, "/")[1],
}

# gateway_finding is a finding about one gateway in the judged step.
gateway_finding(gateway, msg, hint) := {
	"msg": msg,
	"object": gateway_service_ref(gateway),
	"hint": hint,
	"step": input.step.name,
}
