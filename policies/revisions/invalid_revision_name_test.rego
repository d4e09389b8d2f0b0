package meshplan.revisions.invalid_revision_name_test

import data.meshplan.revisions.invalid_revision_name

long := concat("", ["a" | some _ in numbers.range(1, 64)])

fixture_fires := {"facts": {
	"revisions": {"1.24.3": {"name": "1.24.3", "version": "1.24.3", "tags": []}},
	"tags": {"Canary": "1.24.3", long: "1.24.3"},
}}

fixture_ok := {"facts": {
	"revisions": {"1-24-3": {"name": "1-24-3", "version": "1.24.3", "tags": ["default", "stable"]}},
	"tags": {"default": "1-24-3", "stable": "1-24-3"},
}}

test_fires_on_dots_uppercase_and_length if {
	findings := invalid_revision_name.deny with input as fixture_fires
	count(findings) == 3
	some f in findings
	startswith(f.msg, "revision name \"1.24.3\"")
}

test_ok_valid_names if {
	count(invalid_revision_name.deny) == 0 with input as fixture_ok
}
