//! Version facts of `delivery: sail`: which versions the plan renders that the Sail
//! Operator release meshplan renders for cannot install ([`crate::catalog::sail`]). The
//! policy MP107 reports each with the operator's reason.

use super::VersionFacts;
use crate::spec::Delivery;

/// With `delivery: sail`, sets `deliveryUnsupported` on the target and on every version a
/// hop renders (`hops` but `from`, which runs already) that the operator cannot install.
pub fn mark_unsupported(
    delivery: Delivery,
    from: Option<&str>,
    hops: &[String],
    facts: &mut VersionFacts,
) {
    if delivery != Delivery::Sail {
        return;
    }
    let rendered = |v: &str| from != Some(v) && hops.iter().any(|h| h == v);
    facts.target.delivery_unsupported = crate::catalog::sail::unsupported(&facts.target.version);
    for fact in &mut facts.installed {
        if rendered(&fact.version) {
            fact.delivery_unsupported = crate::catalog::sail::unsupported(&fact.version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::VersionFact;

    fn fact(version: &str) -> VersionFact {
        VersionFact {
            version: version.into(),
            ..VersionFact::default()
        }
    }

    #[test]
    fn marks_the_target_and_the_rendered_hops_only_for_sail() {
        let hops: Vec<String> = ["1.26.8", "1.27.9", "1.28.10"].map(String::from).to_vec();
        let mut facts = VersionFacts {
            target: fact("1.28.10"),
            installed: vec![fact("1.28.10"), fact("1.26.8"), fact("1.27.9")],
            ..VersionFacts::default()
        };
        mark_unsupported(Delivery::FluxHelm, Some("1.26.8"), &hops, &mut facts);
        assert!(
            facts
                .installed
                .iter()
                .all(|f| f.delivery_unsupported.is_none())
        );
        mark_unsupported(Delivery::Sail, Some("1.26.8"), &hops, &mut facts);
        assert_eq!(facts.target.delivery_unsupported, None);
        let marked: Vec<&str> = facts
            .installed
            .iter()
            .filter(|f| f.delivery_unsupported.is_some())
            .map(|f| f.version.as_str())
            .collect();
        // 1.26.8 runs already: not rendered, not judged here.
        assert_eq!(marked, ["1.27.9"]);
    }
}
