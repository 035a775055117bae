//! TLS to MQTT brokers: a rustls client configuration on the ring provider,
//! trusting the input's own authorities or the system's, with an optional
//! client certificate.

use limelight_shared::input::{BrokerAddress, MqttTls};
use rumqttc::{TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use std::sync::{Arc, OnceLock};

/// Check the certificates and key `tls` holds, as they are written: why they
/// cannot be used, in words for the writer. The system's authorities, used when
/// `ca` is absent, are the machine's business and are read when connecting.
pub fn check_tls(tls: &MqttTls) -> Result<(), String> {
    let roots = match &tls.ca {
        Some(pem) => roots_from(pem)?,
        None => RootCertStore::empty(),
    };
    config(tls, Arc::new(roots)).map(|_| ())
}

/// The client configuration `tls` describes.
fn tls_config(tls: &MqttTls) -> Result<Arc<ClientConfig>, String> {
    let roots = match &tls.ca {
        Some(pem) => Arc::new(roots_from(pem)?),
        None => system_roots()?,
    };
    config(tls, roots)
}

/// A client configuration trusting `roots`, with `tls`'s client certificate.
fn config(tls: &MqttTls, roots: Arc<RootCertStore>) -> Result<Arc<ClientConfig>, String> {
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots);
    let config = match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let chain = certificates("tls.client_cert", cert)?;
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map_err(|e| format!("tls.client_key holds no private key: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("tls.client_key cannot sign for tls.client_cert: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The transport to `address`: plain TCP, or TLS as `tls` says (the system's
/// authorities when it is absent).
pub fn transport(address: &BrokerAddress, tls: Option<&MqttTls>) -> Result<Transport, String> {
    if !address.tls {
        return Ok(Transport::Tcp);
    }
    let default = MqttTls {
        ca: None,
        client_cert: None,
        client_key: None,
    };
    let config = tls_config(tls.unwrap_or(&default))?;
    Ok(Transport::tls_with_config(TlsConfiguration::Rustls(config)))
}

/// Every certificate of a PEM text; at least one.
fn certificates(what: &str, pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what} is not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{what} holds no certificate"));
    }
    Ok(certs)
}

/// Trust anchors from the input's `ca`.
fn roots_from(pem: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for (i, cert) in certificates("tls.ca", pem)?.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| format!("tls.ca: certificate {} cannot be trusted: {e}", i + 1))?;
    }
    Ok(roots)
}

/// The system's certificate authorities, read once.
fn system_roots() -> Result<Arc<RootCertStore>, String> {
    static ROOTS: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (_, unusable) = roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(format!(
                    "the system has no usable certificate authorities ({} unusable, {:?}); \
                     give the broker's in tls.ca",
                    unusable, found.errors
                ));
            }
            Ok(Arc::new(roots))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(ca: &str) -> MqttTls {
        MqttTls {
            ca: Some(ca.into()),
            client_cert: None,
            client_key: None,
        }
    }

    #[test]
    fn armour_without_a_certificate_inside_is_refused_in_words() {
        let e = check_tls(&tls(
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
        ));
        assert!(e.as_ref().is_err_and(|e| e.contains("tls.ca")), "{e:?}");
        let e = check_tls(&tls("no pem here"));
        assert!(
            e.as_ref().is_err_and(|e| e.contains("no certificate")),
            "{e:?}"
        );
    }

    #[test]
    fn plain_mqtt_is_tcp() {
        let address = BrokerAddress {
            host: "h".into(),
            port: 1883,
            tls: false,
        };
        assert!(matches!(transport(&address, None), Ok(Transport::Tcp)));
    }
}
