//! tokio-postgres on goro (feature `postgres`): [`connect`] opens goro
//! sockets for the hosts in a [`Config`] and runs the startup through
//! `Config::connect_raw`. tokio-postgres is built without its `runtime`
//! feature, so it has no tokio sockets or timers to reach for.

use std::fmt;
use std::io;
#[cfg(unix)]
use std::path::Path;
use std::time::Duration;

use goro_reactor::net::TcpStream;
#[cfg(unix)]
use goro_reactor::net::UnixStream;
use tokio_postgres::config::Host;
use tokio_postgres::tls::TlsConnect;
use tokio_postgres::{Client, Config, Connection};

use crate::{Socket, TokioIo};

/// The stream a [`connect`]ed connection runs on.
pub type PgStream = TokioIo<Socket>;

/// Connects to PostgreSQL as `tokio_postgres::connect` does, on goro
/// sockets: tries each host of `config` in turn (TCP names and addresses,
/// `hostaddr`, and Unix-socket directories), with `connect_timeout` per
/// host on goro's timer, `TCP_NODELAY` on, and TLS from `tls`.
///
/// `tls` is `NoTls` or a connector already made for the server's name
/// (tokio-postgres's `MakeTlsConnect`, which picks one per host, exists
/// only with its `runtime` feature, which goro leaves off); it is cloned
/// for each host tried.
///
/// Spawn the returned [`Connection`] as a goro task (`goro::go(conn)`): it
/// does the I/O for the [`Client`] and ends when the client is dropped or
/// the server goes away, and then every pending query fails with an error.
///
/// Not covered, as with `connect_raw`: `target_session_attrs` other than
/// `any`, load balancing, and keepalive settings. `Client::cancel_token`
/// works through `CancelToken::cancel_query_raw` on a stream you open.
///
/// # Errors
/// [`ConnectError`]: the last host's error, with its name.
///
/// # Examples
///
/// ```no_run
/// use goro::compat::postgres;
/// use tokio_postgres::NoTls;
///
/// # goro::block_on(async {
/// let config: tokio_postgres::Config = "host=127.0.0.1 port=5432 user=postgres".parse()?;
/// let (client, connection) = postgres::connect(&config, NoTls).await?;
/// goro::go(async move {
///     if let Err(e) = connection.await {
///         eprintln!("postgres connection: {e}");
///     }
/// });
/// let row = client.query_one("SELECT 1 + 1", &[]).await?;
/// assert_eq!(row.get::<_, i32>(0), 2);
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub async fn connect<T>(
    config: &Config,
    tls: T,
) -> Result<(Client, Connection<PgStream, T::Stream>), ConnectError>
where
    T: TlsConnect<PgStream> + Clone,
{
    let hosts = config.get_hosts();
    let addrs = config.get_hostaddrs();
    let ports = config.get_ports();
    let n = hosts.len().max(addrs.len());
    if n == 0 {
        return Err(ConnectError::new(
            String::new(),
            Kind::Config("the config names no `host` or `hostaddr`".into()),
        ));
    }
    if ports.len() > 1 && ports.len() != n {
        return Err(ConnectError::new(
            String::new(),
            Kind::Config(format!("{} ports for {n} hosts", ports.len())),
        ));
    }
    let mut last = None;
    for i in 0..n {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let target = match (addrs.get(i), hosts.get(i)) {
            (Some(ip), _) => Target::Tcp(ip.to_string()),
            (None, Some(Host::Tcp(h))) => Target::Tcp(h.clone()),
            #[cfg(unix)]
            (None, Some(Host::Unix(dir))) => Target::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            (None, None) => unreachable!("n is the longer list's length"),
        };
        let shown = target.to_string(port);
        let attempt = attempt(config, target, port, tls.clone());
        let result = match config.get_connect_timeout() {
            Some(&limit) => goro_reactor::time::timeout(limit, attempt)
                .await
                .unwrap_or(Err(Kind::TimedOut(limit))),
            None => attempt.await,
        };
        match result {
            Ok(pair) => return Ok(pair),
            Err(kind) => last = Some(ConnectError::new(shown, kind)),
        }
    }
    Err(last.expect("at least one host was tried"))
}

enum Target {
    Tcp(String),
    #[cfg(unix)]
    Unix(std::path::PathBuf),
}

impl Target {
    fn to_string(&self, port: u16) -> String {
        match self {
            Target::Tcp(h) if h.contains(':') => format!("[{h}]:{port}"),
            Target::Tcp(h) => format!("{h}:{port}"),
            #[cfg(unix)]
            Target::Unix(p) => p.display().to_string(),
        }
    }
}

async fn attempt<T: TlsConnect<PgStream>>(
    config: &Config,
    target: Target,
    port: u16,
    tls: T,
) -> Result<(Client, Connection<PgStream, T::Stream>), Kind> {
    let socket = match target {
        Target::Tcp(host) => {
            let s = TcpStream::connect((host.as_str(), port))
                .await
                .map_err(Kind::Io)?;
            s.set_nodelay(true).map_err(Kind::Io)?;
            Socket::Tcp(s)
        }
        #[cfg(unix)]
        Target::Unix(path) => Socket::Unix(unix(&path).await.map_err(Kind::Io)?),
    };
    config
        .connect_raw(TokioIo::new(socket), tls)
        .await
        .map_err(Kind::Postgres)
}

#[cfg(unix)]
async fn unix(path: &Path) -> io::Result<UnixStream> {
    UnixStream::connect(path).await
}

/// Why [`connect`] failed, naming the host (or socket path) it tried last.
#[derive(Debug)]
pub struct ConnectError {
    host: String,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Config(String),
    Io(io::Error),
    TimedOut(Duration),
    Postgres(tokio_postgres::Error),
}

impl ConnectError {
    fn new(host: String, kind: Kind) -> ConnectError {
        ConnectError { host, kind }
    }

    /// The host (`name:port`) or Unix-socket path of the last attempt;
    /// empty for a config error.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The PostgreSQL error, if the server (or the protocol) refused the
    /// connection rather than the network.
    pub fn as_postgres(&self) -> Option<&tokio_postgres::Error> {
        match &self.kind {
            Kind::Postgres(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Config(why) => write!(f, "postgres config: {why}"),
            Kind::Io(e) => write!(f, "cannot connect to postgres at {}: {e}", self.host),
            Kind::TimedOut(d) => write!(
                f,
                "connecting to postgres at {} timed out after {d:?} (connect_timeout)",
                self.host
            ),
            Kind::Postgres(e) => write!(f, "postgres at {}: {e}", self.host),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Config(_) | Kind::TimedOut(_) => None,
            Kind::Io(e) => Some(e),
            Kind::Postgres(e) => Some(e),
        }
    }
}
