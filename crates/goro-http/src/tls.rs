//! HTTPS with rustls (the `ring` provider) over goro sockets, through
//! futures-rustls: server configs from PEM, and the client's roots.

use std::io;
use std::sync::Arc;

use futures_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsConnector, client::TlsStream};
use goro_reactor::net::TcpStream;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};

/// The rustls version goro's TLS is built on.
pub use futures_rustls::rustls;
/// Certificate and key types (`CertificateDer`, `PrivateKeyDer`).
pub use rustls_pki_types as pki_types;

/// The crypto provider goro's configs are built with.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    // ring has no post-quantum key exchange, hence the deprecation; the
    // alternative, aws-lc-rs, needs cmake and a far longer build.
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config from a PEM certificate chain and private key, for
/// [`Server::tls`](crate::Server::tls): TLS 1.2 and 1.3, no client
/// certificates, ALPN `h2` and `http/1.1`.
///
/// # Errors
/// When the PEM holds no certificate or no key, or rustls rejects them;
/// the message says which.
///
/// # Examples
///
/// ```
/// let key = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
/// let config = goro::http::tls::server_config_from_pem(
///     key.cert.pem().as_bytes(),
///     key.signing_key.serialize_pem().as_bytes(),
/// )
/// .unwrap();
/// assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
/// ```
pub fn server_config_from_pem(cert_chain: &[u8], key: &[u8]) -> io::Result<ServerConfig> {
    let certs = CertificateDer::pem_slice_iter(cert_chain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("reading the certificate chain: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("the certificate PEM holds no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key)
        .map_err(|e| invalid(format!("reading the private key: {e}")))?;
    server_config(certs, key)
}

/// A server config from DER certificates and key; see
/// [`server_config_from_pem`].
///
/// # Errors
/// When rustls rejects the certificate or key.
pub fn server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)
        .map_err(|e| invalid(format!("certificate or key rejected: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Where the client's trusted roots come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Roots {
    /// Mozilla's roots, bundled by the `webpki-roots` crate: the same on
    /// every machine.
    #[default]
    Webpki,
    /// The operating system's store, as Go's `crypto/x509` uses.
    Native,
}

/// The client's TLS settings, turned into a connector when the client is
/// built.
#[derive(Clone)]
pub(crate) struct ClientTls {
    pub(crate) source: Roots,
    pub(crate) roots: RootCertStore,
    pub(crate) config: Option<ClientConfig>,
    connector: Option<TlsConnector>,
}

impl Default for ClientTls {
    fn default() -> ClientTls {
        ClientTls {
            source: Roots::default(),
            roots: RootCertStore::empty(),
            config: None,
            connector: None,
        }
    }
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("source", &self.source)
            .field("extra_roots", &self.roots.len())
            .field("custom_config", &self.config.is_some())
            .finish()
    }
}

impl ClientTls {
    pub(crate) fn finish(&mut self, http2_only: bool) {
        let mut config = match self.config.take() {
            Some(c) => c,
            None => {
                let mut roots = std::mem::replace(&mut self.roots, RootCertStore::empty());
                match self.source {
                    Roots::Webpki => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                    Roots::Native => {
                        let found = rustls_native_certs::load_native_certs();
                        let (added, _) = roots.add_parsable_certificates(found.certs);
                        assert!(
                            added > 0,
                            "goro::http: no usable certificate in the OS's root store ({:?})",
                            found.errors
                        );
                    }
                }
                ClientConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default TLS versions")
                    .with_root_certificates(roots)
                    .with_no_client_auth()
            }
        };
        if config.alpn_protocols.is_empty() {
            config.alpn_protocols = if http2_only {
                vec![b"h2".to_vec()]
            } else {
                vec![b"h2".to_vec(), b"http/1.1".to_vec()]
            };
        }
        self.connector = Some(TlsConnector::from(Arc::new(config)));
    }

    pub(crate) async fn connect(
        &self,
        host: &str,
        stream: TcpStream,
    ) -> io::Result<TlsStream<TcpStream>> {
        let connector = self
            .connector
            .clone()
            .expect("the client's TLS settings are finished when it is built");
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| invalid(format!("{host:?} is not a valid TLS server name: {e}")))?;
        connector.connect(name, stream).await
    }
}
