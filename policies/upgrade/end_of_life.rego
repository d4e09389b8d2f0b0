# What it does
#   Flags the target Istio version, or a version still installed (a revision of the lock),
#   whose minor is past end of life on `facts.versions.today` (`--today` for reproducible
#   runs): one finding per version. Intermediate hops are not reported on their own (the
#   plan passes through them and removes them), nor are versions a done step removed.
#
# Why is this bad?
#   An end-of-life minor gets no security fixes. Targeting one starts the next upgrade
#   already late; leaving one installed keeps unpatched istiod pods in the cluster.
#
# Example
#   `istio.version: 1.22.8` when `today` is after the end-of-life date of 1.22.
#
# Fix
#   Target a supported minor; finish the upgrade so old revisions are removed.
package meshplan.upgrade.end_of_life

metadata := {
	"code": "MP104",
	"name": "end-of-life",
	"severity": "warn",
	"title": "Istio version past end of life",
	"description": "The target Istio version, or a version still installed, is past its end of life.",
	"remediation": "Target a supported Istio minor and finish the upgrade so old revisions are removed.",
}

judged contains input.facts.versions.target

# What runs now: the committed lock's revisions (none on a new cluster).
running contains r.version if some r in input.state.revisions

judged contains v if {
	some v in input.facts.versions.installed
	running[v.version]
}

# eol_text is the end-of-life date, or words when the catalogue lacks one.
default eol_text(_) := "an unknown date"

eol_text(v) := v.eolDate if is_string(v.eolDate)

warn contains {"msg": msg, "hint": hint} if {
	some v in judged
	v.endOfLife == true
	msg := sprintf("istio %s reached end of life on %s", [v.version, eol_text(v)])
	hint := "target a supported Istio minor"
}
