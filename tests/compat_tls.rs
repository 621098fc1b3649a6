//! tokio-rustls on goro: a TLS server and client, both tokio-rustls over
//! `goro::compat::TokioIo` on goro sockets, with a self-signed certificate
//! made here by rcgen. The client's TLS stream is then read through
//! `FromTokio` with futures-lite, and no tokio or async-compat thread
//! exists. (The test name avoids "tokio": the test thread is named
//! after it, and the hidden-runtime check matches thread names.)

use std::sync::Arc;

use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};
use goro::compat::{FromTokio, TokioIo};
use goro::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

#[test]
fn tls_server_and_client_over_goro_sockets() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der = CertificateDer::from(cert.cert.der().to_vec());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    // ring, as goro's own TLS configs use (rustls deprecates it for lack
    // of post-quantum key exchange; fine for a local test).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key_der)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let client_config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();

    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(server_config));
        // The server task: echo one line back, upper-cased, 100 times.
        let server = goro::go(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(TokioIo::new(tcp)).await.unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let mut echoed = 0;
            loop {
                let n = tls.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                tls.write_all(&buf[..n].to_ascii_uppercase()).await.unwrap();
                echoed += n;
            }
            tls.shutdown().await.unwrap();
            echoed
        });

        let tcp = TcpStream::connect(addr).await.unwrap();
        let connector = TlsConnector::from(Arc::new(client_config));
        let name = ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name, TokioIo::new(tcp)).await.unwrap();
        let (_, session) = tls.get_ref();
        assert!(
            session.protocol_version().is_some(),
            "no TLS version negotiated"
        );

        // Through FromTokio: futures-io's traits over the TLS stream.
        let mut tls = FromTokio::new(tls);
        let message = "hello over tokio-rustls on goro\n".repeat(4096);
        tls.write_all(message.as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        let mut back = vec![0u8; message.len()];
        tls.read_exact(&mut back).await.unwrap();
        assert_eq!(back, message.to_ascii_uppercase().as_bytes());
        tls.close().await.unwrap();
        let mut rest = Vec::new();
        tls.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        assert_eq!(server.await.unwrap(), message.len());
        goro_testkit::threads::assert_no_hidden_runtime();
    });
}
