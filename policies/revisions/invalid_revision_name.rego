# What it does
#   Flags a revision or revision tag name that is not a valid DNS-1123 label of at most
#   63 characters (lowercase letters, digits and `-`, starting and ending alphanumeric).
#
# Why is this bad?
#   Revision and tag names become parts of object names (`istiod-<rev>`) and label
#   values; Kubernetes rejects an invalid one when the change is applied, half-way
#   through a sync.
#
# Example
#   `istio.revision: 1.24.3` (dots) or a tag `Canary` (uppercase).
#
# Fix
#   Use dashes and lowercase: `1-24-3`, `canary`.
package meshplan.revisions.invalid_revision_name

metadata := {
	"code": "MP205",
	"name": "invalid-revision-name",
	"severity": "deny",
	"title": "Revision or tag name is not a DNS-1123 label",
	"description": "A revision or tag name is not a valid DNS-1123 label of at most 63 characters.",
	"remediation": "Use lowercase letters, digits and dashes only, starting and ending with a letter or digit.",
}

dns_label := `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`

names contains ["revision", name] if some name, _ in input.facts.revisions

names contains ["tag", name] if some name, _ in input.facts.tags

invalid(name) if not regex.match(dns_label, name)

invalid(name) if count(name) > 63

deny contains {"msg": msg, "hint": hint} if {
	some [what, name] in names
	invalid(name)
	msg := sprintf("%s name %q is not a DNS-1123 label of at most 63 characters", [what, name])
	hint := "use lowercase letters, digits and dashes, e.g. 1-24-3"
}
