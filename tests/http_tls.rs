//! HTTPS on goro: certificates made here with rcgen (a CA and a server
//! certificate it signs), `Server::tls` negotiating h2 or HTTP/1.1 by ALPN,
//! real `curl --cacert` over both, goro's client trusting the CA, and bad
//! certificates refused with an error that names the certificate problem.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use goro::http::bytes::Bytes;
use goro::http::http::{Request, Response, Version};
use goro::http::http_body_util::{BodyExt, Full};
use goro::http::hyper::body::Incoming;
use goro::http::hyper::service::service_fn;
use goro::http::tls::pki_types::CertificateDer;
use goro::http::tls::{rustls, server_config_from_pem};
use goro::http::{Client, Server};
use goro_testkit::error::chain;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A private CA and server certificates it signs, as PEM files in a
/// directory of their own (removed on drop).
struct Pki {
    dir: PathBuf,
    ca_params: CertificateParams,
    ca_key: KeyPair,
    ca_der: CertificateDer<'static>,
}

impl Pki {
    /// A CA, written to `ca.pem`.
    fn new(test: &str) -> Pki {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "goro-http-tls-{}-{test}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(
            DnType::CommonName,
            format!("goro test CA {}", dir.display()),
        );
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        let ca_der = CertificateDer::from(ca.der().to_vec());
        Pki {
            dir,
            ca_params,
            ca_key,
            ca_der,
        }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// A server certificate for `names` signed by the CA, written to
    /// `{stem}.pem` (the chain: server, then CA) and `{stem}.key`.
    fn server_cert(&self, stem: &str, names: &[&str]) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].to_owned());
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        let ca_pem = std::fs::read_to_string(self.path("ca.pem")).unwrap();
        std::fs::write(
            self.path(&format!("{stem}.pem")),
            format!("{}{ca_pem}", cert.pem()),
        )
        .unwrap();
        std::fs::write(self.path(&format!("{stem}.key")), key.serialize_pem()).unwrap();
    }

    /// A server config from the PEM files of `stem`, read back from disk
    /// as a program would.
    fn server_config(&self, stem: &str) -> rustls::ServerConfig {
        let chain = std::fs::read(self.path(&format!("{stem}.pem"))).unwrap();
        let key = std::fs::read(self.path(&format!("{stem}.key"))).unwrap();
        server_config_from_pem(&chain, &key).unwrap()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Serves HTTPS with `config` on 127.0.0.1; every answer says which HTTP
/// version the server saw.
async fn serve_tls(config: rustls::ServerConfig) -> SocketAddr {
    let listener = goro::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = service_fn(|req: Request<Incoming>| async move {
        let body = format!("hello over {:?}", req.version());
        Ok::<_, std::convert::Infallible>(
            Response::builder()
                .header("x-served-by", "goro")
                .body(Full::new(Bytes::from(body)))
                .unwrap(),
        )
    });
    goro::go(async move {
        Server::new()
            .tls(config)
            .serve(listener, svc)
            .await
            .unwrap()
    });
    addr
}

fn rt() -> goro::Runtime {
    goro::Runtime::builder().maxprocs(2).build().unwrap()
}

/// A client config trusting only `ca`, offering only `alpn`.
fn client_config(ca: CertificateDer<'static>, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    // The provider goro's own configs use (ring).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// GETs `uri` and returns the version, the `x-served-by` header and body.
/// A client that trusts the test CA (and webpki's public roots).
fn trusting(pki: &Pki) -> Client {
    Client::builder()
        .add_root_certificate(pki.ca_der.clone())
        .unwrap()
        .build()
}

/// The root URI of a TLS server on `addr`.
fn https(addr: SocketAddr) -> String {
    format!("https://127.0.0.1:{}/", addr.port())
}

async fn get(client: &Client, uri: &str) -> Result<(Version, String, String), String> {
    let resp = client
        .get(uri.parse().unwrap())
        .await
        .map_err(|e| chain(&e))?;
    assert_eq!(resp.status(), 200);
    let version = resp.version();
    let by = resp.headers()["x-served-by"].to_str().unwrap().to_owned();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Ok((version, by, String::from_utf8(body.to_vec()).unwrap()))
}

/// Runs curl against `https://localhost:PORT/` (resolved to 127.0.0.1)
/// and returns the body and `%{http_version}`.
async fn curl(curl: &Path, ca: &Path, port: u16, version_flag: &str) -> (String, String) {
    let mut cmd = Command::new(curl);
    cmd.args(["--silent", "--show-error", "--max-time", "60", "--cacert"])
        .arg(ca)
        .arg(version_flag)
        .arg("--resolve")
        .arg(format!("localhost:{port}:127.0.0.1"))
        .args(["--write-out", "\n%{http_version}"])
        .arg(format!("https://localhost:{port}/"));
    let shown = format!("{cmd:?}");
    let out = goro::unblock(move || cmd.output()).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{shown} failed with {}:\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, version) = stdout
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("{shown}: no version line in {stdout:?}"));
    (body.to_owned(), version.to_owned())
}

#[test]
fn curl_gets_http1_and_h2_over_tls() {
    let Some(curl_path) = goro_testkit::tools::require_tool("curl", "curl") else {
        return;
    };
    let pki = Pki::new("curl");
    pki.server_cert("server", &["localhost", "127.0.0.1"]);
    rt().block_on(async {
        let addr = serve_tls(pki.server_config("server")).await;
        let ca = pki.path("ca.pem");
        let (body, version) = curl(&curl_path, &ca, addr.port(), "--http1.1").await;
        assert_eq!(version, "1.1");
        assert_eq!(body, "hello over HTTP/1.1");
        let (body, version) = curl(&curl_path, &ca, addr.port(), "--http2").await;
        assert_eq!(version, "2", "ALPN did not pick h2");
        assert_eq!(body, "hello over HTTP/2.0");
    });
    goro_testkit::threads::assert_no_hidden_runtime();
}

#[test]
fn curl_rejects_a_certificate_its_ca_did_not_sign() {
    let Some(curl_path) = goro_testkit::tools::require_tool("curl", "curl") else {
        return;
    };
    let pki = Pki::new("curl-bad");
    pki.server_cert("server", &["localhost"]);
    let other = Pki::new("curl-other");
    rt().block_on(async {
        let addr = serve_tls(pki.server_config("server")).await;
        let mut cmd = Command::new(&curl_path);
        cmd.args(["--silent", "--show-error", "--max-time", "60", "--cacert"])
            .arg(other.path("ca.pem"))
            .arg("--resolve")
            .arg(format!("localhost:{}:127.0.0.1", addr.port()))
            .arg(format!("https://localhost:{}/", addr.port()));
        let out = goro::unblock(move || cmd.output()).await.unwrap().unwrap();
        // curl's exit code 60: the peer certificate cannot be authenticated.
        assert_eq!(
            out.status.code(),
            Some(60),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The server keeps serving after the failed handshake.
        let (body, version) = curl(&curl_path, &pki.path("ca.pem"), addr.port(), "--http1.1").await;
        assert_eq!(
            (body.as_str(), version.as_str()),
            ("hello over HTTP/1.1", "1.1")
        );
    });
}

#[test]
fn goro_client_negotiates_h2_by_alpn() {
    let pki = Pki::new("client-h2");
    pki.server_cert("server", &["localhost", "127.0.0.1"]);
    rt().block_on(async {
        let addr = serve_tls(pki.server_config("server")).await;
        let client = trusting(&pki);
        for _ in 0..3 {
            let (version, by, body) = get(&client, &https(addr)).await.unwrap();
            assert_eq!(version, Version::HTTP_2);
            assert_eq!(by, "goro");
            assert_eq!(body, "hello over HTTP/2.0");
        }
    });
    goro_testkit::threads::assert_no_hidden_runtime();
}

#[test]
fn goro_client_speaks_http1_over_tls() {
    let pki = Pki::new("client-h1");
    pki.server_cert("server", &["127.0.0.1"]);
    rt().block_on(async {
        // The client offers only http/1.1.
        let addr = serve_tls(pki.server_config("server")).await;
        let client: Client = Client::builder()
            .tls_config(client_config(pki.ca_der.clone(), &[b"http/1.1"]))
            .build();
        let uri = https(addr);
        for _ in 0..3 {
            let (version, by, body) = get(&client, &uri).await.unwrap();
            assert_eq!(version, Version::HTTP_11);
            assert_eq!(by, "goro");
            assert_eq!(body, "hello over HTTP/1.1");
        }

        // The server offers only http/1.1; the client's default offers
        // both, and the server's choice wins.
        let mut config = pki.server_config("server");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let addr = serve_tls(config).await;
        let client = trusting(&pki);
        let (version, _, body) = get(&client, &https(addr)).await.unwrap();
        assert_eq!(version, Version::HTTP_11);
        assert_eq!(body, "hello over HTTP/1.1");
    });
    goro_testkit::threads::assert_no_hidden_runtime();
}

#[test]
fn a_certificate_from_an_unknown_ca_is_rejected() {
    let pki = Pki::new("unknown-ca");
    pki.server_cert("server", &["127.0.0.1"]);
    rt().block_on(async {
        let addr = serve_tls(pki.server_config("server")).await;
        let uri = https(addr);
        // Only webpki's public roots: our CA is not among them.
        let client = Client::new();
        let err = get(&client, &uri).await.unwrap_err();
        assert!(
            err.contains("invalid peer certificate") && err.contains("UnknownIssuer"),
            "the error does not name the certificate problem: {err}"
        );
        assert!(
            err.contains(&format!("127.0.0.1:{}", addr.port())),
            "the error does not name the server: {err}"
        );
        // Neither does a client that trusts some other CA.
        let other = Pki::new("unknown-ca-other");
        let client: Client = Client::builder()
            .add_root_certificate(other.ca_der.clone())
            .unwrap()
            .build();
        let err = get(&client, &uri).await.unwrap_err();
        assert!(err.contains("UnknownIssuer"), "{err}");

        // The server is unharmed: a client that trusts the CA gets through.
        let client = trusting(&pki);
        let (_, _, body) = get(&client, &uri).await.unwrap();
        assert_eq!(body, "hello over HTTP/2.0");
    });
}

#[test]
fn a_certificate_for_another_name_is_rejected() {
    let pki = Pki::new("wrong-name");
    pki.server_cert("server", &["wrong.example"]);
    rt().block_on(async {
        let addr = serve_tls(pki.server_config("server")).await;
        let client = trusting(&pki);
        let err = get(&client, &https(addr)).await.unwrap_err();
        assert!(
            err.contains("invalid peer certificate")
                && err.contains("not valid for name \"127.0.0.1\"")
                && err.contains("wrong.example"),
            "the error does not say the certificate is for another name: {err}"
        );
    });
}

#[test]
fn bad_pem_gives_a_clear_error() {
    let pki = Pki::new("bad-pem");
    pki.server_cert("server", &["localhost"]);
    pki.server_cert("other", &["localhost"]);
    let chain = std::fs::read(pki.path("server.pem")).unwrap();
    let key = std::fs::read(pki.path("server.key")).unwrap();
    let other_key = std::fs::read(pki.path("other.key")).unwrap();

    let err = server_config_from_pem(b"not a certificate", &key).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("no certificate"), "{err}");

    let err = server_config_from_pem(&chain, b"not a key").unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");

    // A key that does not belong to the certificate.
    let err = server_config_from_pem(&chain, &other_key).unwrap_err();
    assert!(
        err.to_string().contains("certificate or key rejected"),
        "{err}"
    );
}
