# What it does
#   Flags a `spec.exceptions` entry whose `expires` date is before today
#   (`facts.versions.today`). An expired waiver no longer waives anything.
#
# Why is this bad?
#   Waivers are promises to fix something by a date. Once expired, the waived finding
#   comes back; this rule says why, so the waiver is renewed or removed on purpose.
#
# Example
#   `{rule: MP301, object: Deployment/bookinfo/details, expires: 2025-01-31}` on
#   2025-02-01.
#
# Fix
#   Fix the waived finding and delete the waiver, or extend `expires` with a reason.
package meshplan.config.waiver_expired

metadata := {
	"code": "MP503",
	"name": "waiver-expired",
	"severity": "warn",
	"title": "Waiver past its expiry date",
	"description": "A spec.exceptions entry is past its expires date and no longer waives its finding.",
	"remediation": "Fix the waived finding and remove the waiver, or extend its expires date.",
}

warn contains {"msg": msg, "hint": hint} if {
	today := input.facts.versions.today
	some e in input.spec.exceptions
	e.expires < today
	msg := sprintf("the waiver of %s for %s expired on %s", [e.rule, e.object, e.expires])
	hint := "fix the finding and remove the waiver, or extend its expires date"
}
