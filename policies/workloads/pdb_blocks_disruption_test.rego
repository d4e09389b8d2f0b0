package meshplan.workloads.pdb_blocks_disruption_test

import data.meshplan.workloads.pdb_blocks_disruption

cart := {
	"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"},
	"injected": true,
	"moving": true,
	"step": "wave canary",
	"replicas": 2,
	"pdbs": ["shop/cart-pdb"],
	"blockingPdbs": ["shop/cart-pdb"],
}

fixture_fires := {"facts": {"workloads": [cart]}}

fixture_ok_allows_one := {"facts": {"workloads": [object.union(cart, {"blockingPdbs": []})]}}

fixture_ok_not_moving := {"facts": {"workloads": [object.union(cart, {"moving": false})]}}

test_fires_on_blocking_pdb if {
	findings := pdb_blocks_disruption.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "shop/cart-pdb")
	f.object.name == "cart"
}

test_ok_allows_one if {
	count(pdb_blocks_disruption.warn) == 0 with input as fixture_ok_allows_one
}

test_ok_not_moving if {
	count(pdb_blocks_disruption.warn) == 0 with input as fixture_ok_not_moving
}
