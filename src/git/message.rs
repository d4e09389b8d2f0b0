//! The commit message of one upgrade step: a subject a reviewer can scan in `git log
//! --oneline`, a body listing what the step moves and restarts, and `Meshplan-*` trailers
//! that tools (and `git interpret-trailers`) can read back.

/// What one step's commit message says.
#[derive(Debug, Clone, Default)]
pub struct MessageInput<'a> {
    /// The cluster (the spec's `metadata.name`).
    pub cluster: &'a str,
    /// The step's name, e.g. `wave canary`.
    pub step: &'a str,
    /// The step's 1-based position in the plan.
    pub n: usize,
    /// The number of steps in the plan.
    pub total: usize,
    /// The version this step's hop goes to.
    pub hop: &'a str,
    /// Namespaces moved to the new revision.
    pub namespaces: &'a [String],
    /// Namespaces the spec dropped, whose labels leave the render (a `release` step); the
    /// section is left out when there are none.
    pub released: &'a [String],
    /// Workloads whose restart annotation is bumped (`Kind/namespace/name`).
    pub restarted: &'a [String],
    /// Workloads a person must restart.
    pub manual: &'a [String],
    /// Documents of a retired adopted install the commit deletes; left out when none.
    pub deleted: &'a [String],
    /// The user's documents of objects meshplan's render takes over in place (an adopted
    /// `base` release, its HelmRepository); left out when none.
    pub taken_over: &'a [String],
    /// Other actions a person must take in this step, with the reason; left out when none.
    pub actions: &'a [String],
    /// Revisions the step leaves to their operator to delete (`delivery: sail`), each with
    /// who deletes it and when; left out when none.
    pub operator_deletes: &'a [String],
    /// The version installed before the upgrade.
    pub from: &'a str,
    /// The version the upgrade ends at.
    pub to: &'a str,
}

/// `meshplan(<cluster>): <step> (<n>/<total>)`, a body listing the hop, namespaces,
/// restarts and manual restarts (sorted bullets), then `Meshplan-Step/From/To` trailers.
pub fn commit_message(input: &MessageInput<'_>) -> String {
    let mut out = format!(
        "meshplan({}): {} ({}/{})\n\nHop: {}\n",
        one_line(input.cluster),
        one_line(input.step),
        input.n,
        input.total,
        one_line(input.hop)
    );
    if !input.released.is_empty() {
        push_list(&mut out, "Namespaces released", input.released);
    }
    for (title, items) in [
        ("Namespaces moved", input.namespaces),
        ("Workloads restarted", input.restarted),
        ("Workloads needing a manual restart", input.manual),
    ] {
        push_list(&mut out, title, items);
    }
    if !input.taken_over.is_empty() {
        push_list(&mut out, "Taken over in place", input.taken_over);
    }
    if !input.deleted.is_empty() {
        push_list(&mut out, "Adopted install deleted", input.deleted);
    }
    if !input.actions.is_empty() {
        push_list(&mut out, "Manual actions", input.actions);
    }
    if !input.operator_deletes.is_empty() {
        push_list(
            &mut out,
            "Revisions the operator deletes",
            input.operator_deletes,
        );
    }
    out.push_str(&format!(
        "\nMeshplan-Step: {}\nMeshplan-From: {}\nMeshplan-To: {}\n",
        one_line(input.step),
        one_line(input.from),
        one_line(input.to)
    ));
    out
}

/// Keeps a value on one line, so it cannot break the subject or forge a trailer.
fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

/// `\n<title>:` and one sorted, deduplicated bullet per item, or `\n<title>: none`.
fn push_list(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        out.push_str(&format!("\n{title}: none\n"));
        return;
    }
    out.push_str(&format!("\n{title}:\n"));
    let mut sorted: Vec<String> = items.iter().map(|s| one_line(s)).collect();
    sorted.sort();
    sorted.dedup();
    for item in sorted {
        out.push_str(&format!("- {item}\n"));
    }
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn message_layout() {
        let ns = ["shop".to_string(), "bookinfo".to_string()];
        let restarted = ["Deployment/shop/cart".to_string()];
        let msg = commit_message(&MessageInput {
            cluster: "prod-eu-1",
            step: "wave canary",
            n: 2,
            total: 5,
            hop: "1.24.3",
            namespaces: &ns,
            released: &[],
            restarted: &restarted,
            manual: &[],
            from: "1.23.4",
            to: "1.24.3",
            deleted: &[],
            taken_over: &[],
            actions: &[],
            operator_deletes: &[],
        });
        assert_eq!(
            msg,
            "meshplan(prod-eu-1): wave canary (2/5)\n\nHop: 1.24.3\n\n\
             Namespaces moved:\n- bookinfo\n- shop\n\n\
             Workloads restarted:\n- Deployment/shop/cart\n\n\
             Workloads needing a manual restart: none\n\n\
             Meshplan-Step: wave canary\nMeshplan-From: 1.23.4\nMeshplan-To: 1.24.3\n"
        );
    }

    #[test]
    fn a_release_lists_its_namespaces_before_the_usual_sections() {
        let released = ["legacy".to_string(), "old-shop".to_string()];
        let msg = commit_message(&MessageInput {
            cluster: "prod-eu-1",
            step: "release",
            n: 1,
            total: 1,
            hop: "1.24.3",
            released: &released,
            from: "1.24.3",
            to: "1.24.3",
            ..MessageInput::default()
        });
        assert!(
            msg.contains(
                "Hop: 1.24.3\n\nNamespaces released:\n- legacy\n- old-shop\n\nNamespaces moved: none\n"
            ),
            "{msg}"
        );
    }

    #[test]
    fn newlines_cannot_forge_trailers() {
        let msg = commit_message(&MessageInput {
            step: "x\nMeshplan-To: 9.9.9",
            ..MessageInput::default()
        });
        assert!(!msg.contains("\nMeshplan-To: 9.9.9"), "{msg}");
    }

    #[test]
    fn a_retirement_lists_what_it_deletes_and_what_is_left_to_do() {
        let deleted = ["HelmRelease/istio-system/istiod (apps/istio/releases.yaml)".to_string()];
        let actions =
            ["delete Istio/istio-system/x from ../other.yaml by hand: outside".to_string()];
        let msg = commit_message(&MessageInput {
            step: "cleanup 1.24",
            deleted: &deleted,
            actions: &actions,
            ..MessageInput::default()
        });
        assert!(
            msg.contains(
                "Workloads needing a manual restart: none\n\n\
                 Adopted install deleted:\n- HelmRelease/istio-system/istiod (apps/istio/releases.yaml)\n\n\
                 Manual actions:\n- delete Istio/istio-system/x from ../other.yaml by hand: outside\n"
            ),
            "{msg}"
        );
    }
}
