# What it does
#   Flags an injected workload that a rolling restart can restart but nothing restarts,
#   although what would be injected into it changed: after the judged change its revision
#   injects another Istio version than its running proxy has, or the restart-relevant
#   config (`prometheusMerge`, `compatibilityVersion`) differs from the one its proxy was
#   started with — and no later step of the plan bumps its restart annotation either.
#
# Why is this bad?
#   Istio injects sidecars only when a pod is created. A changed revision or proxy config
#   reaches running pods only when their pod template changes; meshplan bumps
#   `meshplan.dev/restarted-for` for that. A workload left out keeps the old proxy (or the
#   old merged metrics, or old proxy flags) indefinitely, and removing the old revision
#   later breaks it.
#
# Example
#   `prometheusMerge` flipped while a lock edited by hand already records the new config
#   hash, so the plan has no restart steps; or a restart patch deleted from the output.
#
# Fix
#   Let meshplan plan the restarts: restore the lock and `spec.output` (`git checkout`)
#   and run `meshplan render`, which bumps every workload whose injection changes.
package meshplan.config.restart_not_bumped

import data.meshplan.lib.util

metadata := {
	"code": "MP501",
	"name": "restart-not-bumped",
	"severity": "deny",
	"title": "Restart-relevant config changed without a restart bump",
	"description": "An injected, restartable workload would get another proxy version or restart-relevant config (prometheusMerge, compatibilityVersion) than it runs, and no step bumps its restart annotation.",
	"remediation": "Render the change with meshplan (it bumps the restart annotation of every workload whose injection changes) instead of editing the lock or the rendered output.",
}

# What its revision would inject now, compared with what its proxy was started with.
stale(w) := sprintf("runs no sidecar although revision %s now injects Istio %s", [w.revision, rev.version]) if {
	rev := input.facts.revisions[w.revision]
	object.get(w, "proxy", null) == null
}

stale(w) := sprintf("runs Istio %s but revision %s now injects %s", [w.proxy, w.revision, rev.version]) if {
	rev := input.facts.revisions[w.revision]
	w.proxy != null
	w.proxy != rev.version
}

stale(w) := sprintf("was started with restart-relevant config %s but istiod now injects %s (prometheusMerge or compatibilityVersion changed)", [w.proxyConfig, want]) if {
	rev := input.facts.revisions[w.revision]
	w.proxy == rev.version
	want := input.facts.configHash.workloads
	object.get(w, "proxyConfig", null) != null
	w.proxyConfig != want
}

deny contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.injected
	w.restartable
	object.get(w, "nextRestart", null) == null
	reason := stale(w)
	msg := sprintf("%s, and no step bumps its restart annotation", [reason])
	hint := "render the change with meshplan so it bumps meshplan.dev/restarted-for, or restart the workload by hand and re-render"
}
