//! The protocol Istio assigns to a Service port, following `kube.ConvertProtocol` in
//! Istio's `pkg/config/kube/conversion.go` and `protocol.Parse` in `pkg/config/protocol`:
//! UDP ports are `udp`; otherwise `appProtocol` (with Kubernetes' `kubernetes.io/h2c`,
//! `kubernetes.io/ws`, `kubernetes.io/wss`) or else the port name is read, `grpc-web…`
//! first, then the part before the first `-`, case-insensitively. Unknown names on the
//! well-known ports 25 (SMTP), 53 (DNS), 3306 (MySQL) and 27017 (MongoDB) are `tcp`
//! (Istio skips protocol sniffing there); anything else is `unknown` (auto-detection).

/// A detected protocol and where it came from (`appProtocol`, `name`, `port`, `udp`, `none`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// Lowercase protocol, e.g. `http2`, or `unknown`.
    pub protocol: String,
    /// What decided it.
    pub source: &'static str,
}

/// Ports Istio never sniffs: an unnamed port here is plain TCP.
const WELL_KNOWN_TCP_PORTS: [i64; 4] = [25, 53, 3306, 27017];

/// Detects the protocol of one Service port.
pub fn detect(
    name: &str,
    port: i64,
    transport: Option<&str>,
    app_protocol: Option<&str>,
) -> Detected {
    let found = |protocol: &str, source: &'static str| Detected {
        protocol: protocol.to_string(),
        source,
    };
    if transport.is_some_and(|t| t.eq_ignore_ascii_case("UDP")) {
        return found("udp", "udp");
    }
    let (text, source) = match app_protocol {
        Some(app) => {
            match app {
                "kubernetes.io/h2c" => return found("http2", "appProtocol"),
                "kubernetes.io/ws" => return found("http", "appProtocol"),
                "kubernetes.io/wss" => return found("https", "appProtocol"),
                _ => {}
            }
            (app, "appProtocol")
        }
        None => (name, "name"),
    };
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("grpc-web") {
        return found("grpc-web", source);
    }
    let prefix = lower.split('-').next().unwrap_or_default();
    if let Some(p) = parse(prefix) {
        return found(p, source);
    }
    if WELL_KNOWN_TCP_PORTS.contains(&port) {
        return found("tcp", "port");
    }
    found("unknown", "none")
}

/// Istio's `protocol.Parse`: the protocols a name or `appProtocol` may spell.
fn parse(s: &str) -> Option<&'static str> {
    Some(match s {
        "tcp" => "tcp",
        "udp" => "udp",
        "grpc" => "grpc",
        "grpc-web" => "grpc-web",
        "http" => "http",
        "http_proxy" => "http_proxy",
        "http2" => "http2",
        "https" => "https",
        "tls" => "tls",
        "mongo" => "mongo",
        "redis" => "redis",
        "mysql" => "mysql",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(
        name: &str,
        port: i64,
        transport: Option<&str>,
        app: Option<&str>,
    ) -> (String, &'static str) {
        let d = detect(name, port, transport, app);
        (d.protocol, d.source)
    }

    #[test]
    fn name_prefixes() {
        assert_eq!(proto("http", 80, None, None), ("http".into(), "name"));
        assert_eq!(proto("http-web", 80, None, None), ("http".into(), "name"));
        assert_eq!(proto("HTTP2", 80, None, None), ("http2".into(), "name"));
        assert_eq!(
            proto("https-admin", 443, None, None),
            ("https".into(), "name")
        );
        assert_eq!(proto("grpc", 9000, None, None), ("grpc".into(), "name"));
        assert_eq!(
            proto("grpc-web", 9000, None, None),
            ("grpc-web".into(), "name")
        );
        assert_eq!(
            proto("grpc-web-ui", 9000, None, None),
            ("grpc-web".into(), "name")
        );
        assert_eq!(proto("grpc-api", 9000, None, None), ("grpc".into(), "name"));
        assert_eq!(proto("tcp-db", 5432, None, None), ("tcp".into(), "name"));
        assert_eq!(proto("tls", 8443, None, None), ("tls".into(), "name"));
        assert_eq!(proto("mongo", 27018, None, None), ("mongo".into(), "name"));
        assert_eq!(
            proto("redis-cache", 6379, None, None),
            ("redis".into(), "name")
        );
        assert_eq!(proto("mysql", 3307, None, None), ("mysql".into(), "name"));
    }

    #[test]
    fn names_that_only_look_like_protocols_are_unknown() {
        assert_eq!(proto("httpx", 8080, None, None), ("unknown".into(), "none"));
        assert_eq!(proto("web", 8080, None, None), ("unknown".into(), "none"));
        assert_eq!(proto("", 8080, None, None), ("unknown".into(), "none"));
        assert_eq!(
            proto("metrics_http", 9090, None, None),
            ("unknown".into(), "none")
        );
    }

    #[test]
    fn app_protocol_beats_the_name() {
        assert_eq!(
            proto("tcp-x", 80, None, Some("http")),
            ("http".into(), "appProtocol")
        );
        assert_eq!(
            proto("web", 80, None, Some("kubernetes.io/h2c")),
            ("http2".into(), "appProtocol")
        );
        assert_eq!(
            proto("web", 80, None, Some("kubernetes.io/wss")),
            ("https".into(), "appProtocol")
        );
        // An appProtocol Istio does not know is not rescued by a good name.
        assert_eq!(
            proto("http", 8080, None, Some("custom.io/x")),
            ("unknown".into(), "none")
        );
    }

    #[test]
    fn udp_and_well_known_ports() {
        assert_eq!(proto("http", 53, Some("UDP"), None), ("udp".into(), "udp"));
        assert_eq!(proto("dns", 53, Some("TCP"), None), ("tcp".into(), "port"));
        assert_eq!(proto("", 3306, None, None), ("tcp".into(), "port"));
        assert_eq!(proto("db", 27017, None, None), ("tcp".into(), "port"));
        assert_eq!(proto("http", 3306, None, None), ("http".into(), "name"));
    }
}
