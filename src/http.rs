//! The one place that starts a `reqwest` client, so that every client (iconik calls, uploads,
//! webhooks) gets the same TLS set-up.

/// A client builder with the process's TLS crypto provider in place.
///
/// Off macOS, TLS is rustls with the `ring` provider rather than reqwest's default aws-lc-rs:
/// the same TLS 1.2/1.3 suites with assembly AES-GCM, without compiling the large aws-lc C
/// library into every build (minutes of each clean release build on a 2-core CI machine).
/// reqwest then needs the provider installed before its first client is built.
pub fn client_builder() -> reqwest::ClientBuilder {
    #[cfg(not(target_os = "macos"))]
    {
        // Err only means a provider is already installed (by an earlier call): nothing to do.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds_a_client_more_than_once() {
        assert!(super::client_builder().build().is_ok());
        assert!(super::client_builder().https_only(true).build().is_ok());
    }
}
