//! [`ServerKey`]: an iconik server URL reduced to `scheme://host[:port]`, the keyring account name.
//!
//! iconik hosts are regional (`app.iconik.io`, `eu.iconik.io`, iconik-api.md "Hosts"), and one
//! App-ID/token pair belongs to one host, so the key is the URL's origin: scheme and host
//! lower-cased, default port dropped, no path or trailing slash. `https://APP.iconik.io/API/`
//! and `https://app.iconik.io:443` are the same key.

use super::SecretsError;
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

/// A validated, normalised iconik server origin (`https://app.iconik.io`, `http://127.0.0.1:8080`).
///
/// Plain `http` is accepted only for loopback hosts (the local sandbox); everything else must be
/// `https`, because the token travels in a request header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerKey(String);

impl ServerKey {
    /// Parses and normalises `input`; see the type docs for what is accepted.
    pub fn parse(input: &str) -> Result<Self, SecretsError> {
        let trimmed = input.trim();
        let invalid = |reason: &str| SecretsError::InvalidServer {
            input: redact_userinfo(trimmed),
            reason: reason.to_string(),
        };
        if trimmed.is_empty() {
            return Err(invalid("it is empty; give e.g. https://app.iconik.io"));
        }
        if !trimmed.contains("://") {
            return Err(invalid(&format!(
                "give the full URL with its scheme, e.g. https://{trimmed}"
            )));
        }
        let url = Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "it contains a user name or password; give only https://host[:port] \
                 (the token is read from stdin)",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "it has a query or fragment; give only https://host[:port]",
            ));
        }
        let host = match url.host() {
            Some(host) => host,
            None => return Err(invalid("it has no host")),
        };
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(SecretsError::InsecureServer {
                    input: trimmed.to_string(),
                    host: host_port(&url),
                });
            }
            other => {
                return Err(invalid(&format!(
                    "scheme `{other}` is not supported; use https"
                )));
            }
        }
        // The origin drops path, query and the scheme's default port, and lower-cases the host.
        Ok(ServerKey(url.origin().ascii_serialization()))
    }

    /// The normalised origin, e.g. `https://app.iconik.io`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ServerKey {
    type Err = SecretsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServerKey::parse(s)
    }
}

/// 127.0.0.0/8, ::1 (and IPv4-mapped loopback), `localhost`.
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).to_canonical().is_loopback(),
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The input with any `user:password@` removed, so an error message never repeats a password.
fn redact_userinfo(input: &str) -> String {
    let Some((scheme, rest)) = input.split_once("://") else {
        return input.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => input.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> String {
        ServerKey::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .as_str()
            .to_string()
    }

    #[test]
    fn normalises_to_origin() {
        assert_eq!(key("https://app.iconik.io"), "https://app.iconik.io");
        assert_eq!(key("https://app.iconik.io/"), "https://app.iconik.io");
        assert_eq!(key(" https://APP.Iconik.io/API/ "), "https://app.iconik.io");
        assert_eq!(key("https://eu.iconik.io:443/API"), "https://eu.iconik.io");
        assert_eq!(
            key("HTTPS://eu.iconik.io:8443"),
            "https://eu.iconik.io:8443"
        );
    }

    #[test]
    fn http_only_for_loopback() {
        assert_eq!(key("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_eq!(key("http://127.1.2.3"), "http://127.1.2.3");
        assert_eq!(key("http://[::1]:9000/API/"), "http://[::1]:9000");
        assert_eq!(key("http://LOCALHOST:80"), "http://localhost");
        let err = ServerKey::parse("http://app.iconik.io").expect_err("http to a remote host");
        assert!(
            matches!(err, SecretsError::InsecureServer { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "refusing `http://app.iconik.io`: iconik credentials are only sent over https (plain \
             http is allowed only for loopback test servers: 127.0.0.0/8, ::1, localhost); use \
             https://app.iconik.io"
        );
        for remote in [
            "http://10.0.0.1:8080",
            "http://128.0.0.1",
            "http://localhost.example.com",
        ] {
            let err = ServerKey::parse(remote).expect_err(remote);
            assert!(
                matches!(err, SecretsError::InsecureServer { .. }),
                "{remote}: {err}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_an_origin() {
        let cases = [
            ("", "it is empty"),
            (
                "app.iconik.io",
                "give the full URL with its scheme, e.g. https://app.iconik.io",
            ),
            ("ftp://app.iconik.io", "scheme `ftp` is not supported"),
            ("https://app.iconik.io/?x=1", "query or fragment"),
            ("https://", "empty host"),
        ];
        for (input, reason) in cases {
            match ServerKey::parse(input) {
                Err(SecretsError::InvalidServer { reason: r, .. }) => {
                    assert!(r.contains(reason), "{input:?}: reason {r:?}")
                }
                other => panic!("{input:?}: expected InvalidServer, got {other:?}"),
            }
        }
    }

    #[test]
    fn userinfo_is_refused_and_never_echoed() {
        let err = ServerKey::parse("https://me:hunter2@app.iconik.io/API").expect_err("userinfo");
        let msg = err.to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(!format!("{err:?}").contains("hunter2"));
        assert!(
            msg.starts_with("invalid iconik server URL `https://***@app.iconik.io/API`"),
            "{msg}"
        );
    }
}
