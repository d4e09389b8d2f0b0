# What it does
#   Flags a step after which an injected workload's proxy (the version it was last
#   restarted onto, from the lock) is served by a control plane more than one minor ahead
#   of it, or by one older than it. A committed sidecar (`istioctl kube-inject` output) is
#   judged by the version its manifest pins against the revision its injected config talks
#   to (its `sidecar.istio.io/status` revision), which a namespace relabel does not change.
#
# Why is this bad?
#   Istio supports a control plane at most one minor ahead of its proxies, and never
#   behind them. Outside that window xDS can carry configuration the proxy does not
#   understand, and failures show up as dropped routes or rejected listeners.
#
# Example
#   Namespace `shop` is relabelled to revision `1-26-8` while `Deployment/shop/cart` still
#   runs the 1.24.6 proxy and its restart was not bumped.
#
# Fix
#   Restart the workload in the same step that relabels its namespace (meshplan does
#   this for restartable workloads), and restart the others by hand right after. Re-inject
#   a committed sidecar with the new revision's `istioctl kube-inject --revision`.
package meshplan.upgrade.data_plane_skew

import data.meshplan.lib.util

metadata := {
	"code": "MP105",
	"name": "data-plane-skew",
	"severity": "deny",
	"title": "Proxy outside the supported skew of its control plane",
	"description": "After the step, an injected workload's proxy would be served by a control plane more than one minor ahead of it, or by one older than it.",
	"remediation": "Restart the workload onto the new revision in the step that moves its namespace.",
}

after_versions := util.versions_of(util.step_after)

# The control-plane version serving each managed namespace after the step.
namespace_version := {ns: after_versions[util.resolve(util.step_after, label)] |
	some ns, label in util.step_after.namespaces
}

# skew_finding names the workload's object when the manifests define it (so the finding
# points at its file and line), else it is a finding about the step.
skew_finding(key, msg, hint) := object.union(util.step_finding(msg, hint), {"object": input.step.objects[key]}) if input.step.objects[key]

skew_finding(key, msg, hint) := util.step_finding(msg, hint) if not input.step.objects[key]

deny contains skew_finding(key, msg, hint) if {
	some key, w in util.step_after.workloads
	ns := w.namespace
	served := namespace_version[ns]
	# Cheap first: a proxy on its control plane's own version (every workload the step
	# restarts) is never out of skew, and the version arithmetic below is what costs.
	w.proxy != served
	util.minor_of(served) - util.minor_of(w.proxy) > 1
	msg := sprintf("the %s proxy of %s is served by %s in namespace %s, more than one minor ahead", [w.proxy, key, served, ns])
	hint := "restart the workload in this step so its proxy follows the namespace"
}

deny contains skew_finding(key, msg, hint) if {
	some key, w in util.step_after.workloads
	ns := w.namespace
	served := namespace_version[ns]
	w.proxy != served
	semver.compare(served, w.proxy) < 0
	msg := sprintf("the %s proxy of %s is served by the older %s in namespace %s", [w.proxy, key, served, ns])
	hint := "a proxy must never be ahead of its control plane: move the namespace forward, not back"
}

# The step's committed sidecars (none when the input judges no step).
committed_sidecars := input.step.committed if is_array(input.step.committed)

committed_sidecars := [] if not is_array(input.step.committed)

# A committed sidecar talks to the revision named in its injected config, whatever its
# namespace's label says: `input.step.committed` (computed in Rust) has its pinned proxy
# and that revision's version after the step (null when it is not installed then: MP202's
# concern, not a skew).
committed_hint(c) := sprintf("re-inject it with `istioctl kube-inject --revision REV` of a revision at most one minor ahead of %s and commit the result (it talks to revision %s until then)", [c.proxy, c.revision])

deny contains object.union(util.step_finding(msg, committed_hint(c)), {"object": c.object}) if {
	some c in committed_sidecars
	is_string(c.proxy)
	is_string(c.served)
	c.proxy != c.served
	util.minor_of(c.served) - util.minor_of(c.proxy) > 1
	msg := sprintf("the committed %s sidecar of %s talks to revision %s (%s), more than one minor ahead", [c.proxy, c.key, c.revision, c.served])
}

deny contains object.union(util.step_finding(msg, committed_hint(c)), {"object": c.object}) if {
	some c in committed_sidecars
	is_string(c.proxy)
	is_string(c.served)
	c.proxy != c.served
	semver.compare(c.served, c.proxy) < 0
	msg := sprintf("the committed %s sidecar of %s talks to revision %s, whose control plane is the older %s", [c.proxy, c.key, c.revision, c.served])
}
