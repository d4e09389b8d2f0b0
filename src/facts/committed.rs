//! Committed sidecars (`istioctl kube-inject` output in the manifests) and the control plane
//! each one talks to. Such a proxy is not the webhook's: relabelling its namespace or
//! bumping its restart annotation restarts it on the same image with the same bootstrap, so
//! it keeps the version its image pins and the discovery address written into it, which
//! names the revision it was injected for (`istiod-<rev>`, or `istiod` for a revisionless
//! install). Those are read from the manifest every time, never remembered in the lock, so
//! a re-injection is seen as soon as it is committed (docs/adopt.md).

use super::FactsBase;
use crate::diagnostic::ObjectRef;
use serde_json::Value;

/// Annotation `istioctl kube-inject` leaves on the pod template, naming the revision.
const STATUS_ANNOTATION: &str = "sidecar.istio.io/status";

/// One workload with a committed sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedSidecar {
    /// `Kind/namespace/name`.
    pub key: String,
    /// The workload's object.
    pub object: ObjectRef,
    /// The version its `proxyv2` image pins (None when the tag is not a version).
    pub proxy: Option<String>,
    /// The revision whose istiod its injected config talks to: the `revision` of its
    /// `sidecar.istio.io/status` annotation, `default` when it names none (kube-inject of a
    /// revisionless install points the proxy at the `istiod` Service).
    pub revision: String,
}

impl FactsBase {
    /// Every workload with a committed sidecar, in the base's (inventory) order.
    pub fn committed_sidecars(&self) -> Vec<CommittedSidecar> {
        self.workloads
            .iter()
            .filter_map(|w| {
                let proxy = w.manual.clone()?;
                Some(CommittedSidecar {
                    key: w.facts.key.clone(),
                    object: w.facts.object.clone(),
                    proxy,
                    revision: status_revision(w.facts.pod_annotations.get(STATUS_ANNOTATION)),
                })
            })
            .collect()
    }
}

/// The `revision` of a `sidecar.istio.io/status` annotation, else `default`.
fn status_revision(status: Option<&String>) -> String {
    status
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|v| {
            v.get("revision")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| super::installations::DEFAULT_REVISION.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_annotation_names_the_revision_else_default() {
        let status = |s: &str| status_revision(Some(&s.to_string()));
        assert_eq!(
            status(r#"{"containers":["istio-proxy"],"revision":"1-26-8"}"#),
            "1-26-8"
        );
        assert_eq!(status(r#"{"containers":["istio-proxy"]}"#), "default");
        assert_eq!(status(r#"{"revision":""}"#), "default");
        assert_eq!(status("not json"), "default");
        assert_eq!(status_revision(None), "default");
    }
}
