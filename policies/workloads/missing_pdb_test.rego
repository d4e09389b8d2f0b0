package meshplan.workloads.missing_pdb_test

import data.meshplan.workloads.missing_pdb

cart := {
	"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"},
	"key": "Deployment/shop/cart",
	"injected": true,
	"moving": true,
	"step": "wave canary",
	"replicas": 3,
	"pdbs": [],
}

fixture_fires := {"facts": {"workloads": [cart]}}

fixture_ok_with_pdb := {"facts": {"workloads": [object.union(cart, {"pdbs": ["shop/cart"]})]}}

fixture_ok_single_replica := {"facts": {"workloads": [object.union(cart, {"replicas": 1})]}}

fixture_ok_not_moving := {"facts": {"workloads": [object.union(cart, {"moving": false, "step": null})]}}

fixture_ok_job := {"facts": {"workloads": [object.union(cart, {"object": object.union(cart.object, {"kind": "Job"})})]}}

test_fires_without_pdb if {
	findings := missing_pdb.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object.name == "cart"
	f.step == "wave canary"
}

test_ok_with_pdb if {
	count(missing_pdb.deny) == 0 with input as fixture_ok_with_pdb
}

test_ok_single_replica if {
	count(missing_pdb.deny) == 0 with input as fixture_ok_single_replica
}

test_ok_not_moving if {
	count(missing_pdb.deny) == 0 with input as fixture_ok_not_moving
}

test_ok_job if {
	count(missing_pdb.deny) == 0 with input as fixture_ok_job
}
