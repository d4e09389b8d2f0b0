//! `meshplan facts --format text`: the facts as readable tables, namespaces then workloads
//! (then the Istio installations found in the manifests, when there are any), so a person
//! can answer "who injects what" at a glance.

use super::model::Facts;
use std::fmt::Write;

/// Renders namespaces (revision, injected, why) and workloads (revision, sidecar,
/// restartable, PDBs, disruption allowed) as aligned text tables.
pub fn render_text(facts: &Facts) -> String {
    // Kept whole on purpose: one page layout (namespaces table, workloads table, then the
    // installations), printed in the order a reader sees it.
    let mut out = String::new();
    let dash = || "-".to_string();
    let ns_rows: Vec<Vec<String>> = facts
        .namespaces
        .iter()
        .map(|n| {
            vec![
                n.name.clone(),
                n.revision.clone().unwrap_or_else(dash),
                yes_no(n.injected),
                if n.managed {
                    n.wave.clone().unwrap_or_else(dash)
                } else {
                    dash()
                },
                n.reason.clone(),
            ]
        })
        .collect();
    out.push_str("NAMESPACES\n");
    table(
        &mut out,
        &["NAMESPACE", "REVISION", "INJECTED", "WAVE", "WHY"],
        &ns_rows,
    );
    let wl_rows: Vec<Vec<String>> = facts
        .workloads
        .iter()
        .map(|w| {
            vec![
                w.key.clone(),
                w.revision.clone().unwrap_or_else(dash),
                w.sidecar.clone(),
                yes_no(w.restartable),
                w.replicas.to_string(),
                if w.pdbs.is_empty() {
                    dash()
                } else {
                    w.pdbs.join(",")
                },
                w.disruption_allowed.map(yes_no).unwrap_or_else(dash),
            ]
        })
        .collect();
    out.push_str("\nWORKLOADS\n");
    table(
        &mut out,
        &[
            "WORKLOAD",
            "REVISION",
            "SIDECAR",
            "RESTARTABLE",
            "REPLICAS",
            "PDBS",
            "DISRUPTION",
        ],
        &wl_rows,
    );
    // Only when there are some, so the tables of a mesh meshplan installed stay as they were.
    if !facts.installations.is_empty() {
        let rows: Vec<Vec<String>> = facts
            .installations
            .iter()
            .map(|i| {
                let status = if i.managed {
                    "meshplan"
                } else if i.adopted {
                    "adopted"
                } else {
                    "unmanaged"
                };
                vec![
                    i.object.key(),
                    i.component.clone(),
                    i.revision.clone(),
                    i.version.clone().unwrap_or_else(|| "unknown".to_string()),
                    i.delivery.clone(),
                    status.to_string(),
                    format!("{}:{}", i.file, i.line),
                    i.version_source.clone(),
                ]
            })
            .collect();
        out.push_str("\nINSTALLATIONS\n");
        table(
            &mut out,
            &[
                "INSTALLATION",
                "COMPONENT",
                "REVISION",
                "VERSION",
                "DELIVERY",
                "STATUS",
                "WHERE",
                "VERSION FROM",
            ],
            &rows,
        );
    }
    out
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// Left-aligned columns two spaces apart; the last column is not padded.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}
