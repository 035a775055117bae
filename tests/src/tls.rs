//! Certificates made for a test (rcgen): an authority, a broker's certificate
//! for 127.0.0.1 and a client's, as PEM text.

use anyhow::Result;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// An authority and the two certificates it signed.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The authority's certificate.
    pub ca: String,
    /// The broker's certificate, for `127.0.0.1` and `localhost`.
    pub server_cert: String,
    /// The broker's key.
    pub server_key: String,
    /// A client's certificate (CN `limelight`).
    pub client_cert: String,
    /// The client's key.
    pub client_key: String,
}

impl TestPki {
    /// A fresh authority named `name` and its certificates.
    pub fn new(name: &str) -> Result<Self> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name.push(DnType::CommonName, name);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, ca_key);

        let mut server = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])?;
        server.distinguished_name.push(DnType::CommonName, "broker");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate()?;
        let server_cert = server.signed_by(&server_key, &issuer)?;

        let mut client = CertificateParams::new(Vec::<String>::new())?;
        client
            .distinguished_name
            .push(DnType::CommonName, "limelight");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_key = KeyPair::generate()?;
        let client_cert = client.signed_by(&client_key, &issuer)?;

        Ok(Self {
            ca: ca_cert.pem(),
            server_cert: server_cert.pem(),
            server_key: server_key.serialize_pem(),
            client_cert: client_cert.pem(),
            client_key: client_key.serialize_pem(),
        })
    }
}
