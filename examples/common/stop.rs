//! The graceful-stop trigger shared by the HTTP examples (`http_hello`,
//! `http_app`): Ctrl-C or SIGTERM through `goro::signal`.

/// Resolves at Ctrl-C or SIGTERM (never where there are no signals); the
/// server then finishes its in-flight requests and stops.
#[cfg_attr(
    not(unix),
    allow(
        clippy::manual_async_fn,
        reason = "on Unix the listener starts at the call"
    )
)]
pub fn stop_signal(name: &'static str) -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signal = goro::signal::shutdown();
    async move {
        #[cfg(unix)]
        match signal.await {
            Ok(kind) => {
                eprintln!("{name}: {kind}: finishing in-flight requests");
                return;
            }
            Err(e) => eprintln!("{name}: cannot listen for Ctrl-C: {e}"),
        }
        #[cfg(not(unix))]
        let _ = name;
        std::future::pending::<()>().await
    }
}
