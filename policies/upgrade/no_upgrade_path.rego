# What it does
#   Flags a spec whose Istio version no sequence of supported hops can reach from what the
#   lock records: a change of major version (2.0.1 after 1.22.8), an intermediate minor the
#   release catalogue does not have (1.24 → 1.26 one minor at a time with a `--catalog`
#   that lacks 1.25), or versions that cannot be ordered. The planner stops there and
#   records why in `input.plan.problems`; this rule reports it, so a plan with no steps is
#   never mistaken for a plan that is done. A step on the path that meshplan cannot render
#   (revision tags on an intermediate hop whose istiod chart predates them, 1.19 → 1.22
#   through 1.21.6) is no path either: `check` renders every judged step in memory and
#   passes the refusals as `input.rendered.refused`, reported here at the spec field that
#   asks for them, before that step's pull request would fail.
#
# Why is this bad?
#   Without a path there is nothing to render: `render` and `commit` would silently do
#   nothing while the spec asks for another version, and the pull request that changed the
#   version would pass review although the mesh can never get there. Istio supports
#   upgrades within one major version, one or two minors per hop, through every minor.
#
# Example
#   The lock records revision `1-22-8`; the spec asks for `istio.version: 2.0.1`.
#
# Fix
#   Choose a version of the same major that the catalogue knows, or pass a newer release
#   catalogue with `--catalog FILE` that lists the missing intermediate minor. For a step
#   that cannot be rendered, drop the field the message names until the hop that supports
#   it (e.g. add `revisionTags` once the mesh runs 1.22 or newer).
package meshplan.upgrade.no_upgrade_path

metadata := {
	"code": "MP108",
	"name": "no-upgrade-path",
	"severity": "deny",
	"title": "No upgrade path to the target version",
	"description": "No sequence of supported hops leads from the versions the lock records to the spec's version: a major version change, a minor missing from the release catalogue, or versions that cannot be ordered.",
	"remediation": "Target a version of the same major that the catalogue knows, or pass a release catalogue (--catalog) with every intermediate minor.",
}

deny contains {"msg": p.message, "hint": hint} if {
	some p in object.get(input.plan, "problems", [])
	p.rule == "MP108"
	hint := "set spec.istio.version to a version of the same major that the catalogue knows, or pass a newer --catalog"
}

deny contains {"msg": r.message, "hint": hint} if {
	some r in input.rendered.refused
	hint := "change the spec field the message names for the hops that cannot render it, or upgrade in several changes of the spec"
}
