//! The listener: accepts connections and serves HTTP/1.1 on them, like `axum::serve` (which has
//! neither of the two limits here) with graceful shutdown. A request's head must arrive within
//! `header-read-timeout-secs` (also the longest a kept-alive connection waits for its next
//! request), or the connection is closed. At most `max-connections` are open at once, and one
//! client address (an IPv6 network; not a trusted proxy, which carries many clients) holds at
//! most its share of them; a connection past either limit gets a short 503 or 429 answer and is
//! closed, before any of its request is read. A WebSocket leaves the count when it is upgraded:
//! from then on the live socket's own limits hold it (api::live_socket).

use std::{
    convert::Infallible,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};
use tower::Service;

use super::{
    HttpSettings,
    front_door::FrontDoorSettings,
    settings::TrustedProxies,
    shares::{Share, Shares},
};
use crate::error::ApiError;

/// Connections past a limit being answered at once; beyond this they are closed unanswered.
const REFUSALS_AT_ONCE: usize = 256;
/// How long a refused connection is given to read its answer.
const REFUSAL_LINGER: Duration = Duration::from_secs(2);

/// The connection cap and each client's share of it.
#[derive(Clone)]
pub struct ConnectionLimits {
    all: Arc<Semaphore>,
    max: usize,
    per_client: Option<Arc<Shares>>,
    trusted_proxies: TrustedProxies,
    door: FrontDoorSettings,
    refusals: Arc<Semaphore>,
    last_warning: Arc<AtomicU64>,
}

/// What a connection holds while it is open.
struct Held {
    _place: OwnedSemaphorePermit,
    _share: Option<Share>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Full,
    ClientShare(usize),
}

impl ConnectionLimits {
    pub fn new(settings: &HttpSettings) -> Self {
        let door = settings.front_door.clone();
        let max = door.max_connections as usize;
        Self {
            all: Arc::new(Semaphore::new(max)),
            max,
            // Per-client limits are switched with the throttle (off: every client is one).
            per_client: settings.throttle.then(|| Shares::new(door.share_of(max))),
            trusted_proxies: settings.trusted_proxies.clone(),
            door,
            refusals: Arc::new(Semaphore::new(REFUSALS_AT_ONCE)),
            last_warning: Arc::default(),
        }
    }

    #[cfg(test)]
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.max - self.all.available_permits()
    }

    fn admit(&self, peer: IpAddr) -> Result<Held, Refusal> {
        let share = match &self.per_client {
            Some(shares) if !self.trusted_proxies.contains(peer.to_canonical()) => Some(
                shares
                    .try_take(self.door.client_key(peer))
                    .ok_or(Refusal::ClientShare(shares.limit()))?,
            ),
            _ => None,
        };
        let place = Arc::clone(&self.all)
            .try_acquire_owned()
            .map_err(|_| Refusal::Full)?;
        Ok(Held {
            _place: place,
            _share: share,
        })
    }

    /// A warning at most every ten seconds, so that a flood does not flood the log too.
    fn warn_full(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last_warning.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                max_connections = self.max,
                "every connection place is taken: new connections are refused (max-connections)"
            );
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes; then accepts no more connections,
/// lets the requests running finish (idle connections close at once) and returns when every
/// connection has ended. WebSockets already upgraded are not waited for.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let header_timeout = limits.door.header_read_timeout();
    let (stop, stopped) = watch::channel(false);
    // Every connection holds a receiver; `closed()` on the sender resolves when all are gone.
    let (open, connections) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                on_accept_error(error).await;
                continue;
            }
        };
        match limits.admit(peer.ip()) {
            Ok(held) => {
                let connection = Connection {
                    peer,
                    app: app.clone(),
                    header_timeout,
                    stop: stopped.clone(),
                    _open: connections.clone(),
                    _held: held,
                };
                tokio::spawn(connection.serve(stream));
            }
            Err(refusal) => {
                if refusal == Refusal::Full {
                    limits.warn_full();
                } else {
                    tracing::debug!(client = %limits.door.client_key(peer.ip()), "connection share spent");
                }
                // Answered only while few refusals are pending; otherwise closed unanswered.
                if let Ok(slot) = Arc::clone(&limits.refusals).try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream, refusal).await;
                        drop(slot);
                    });
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    drop(connections);
    open.closed().await;
    Ok(())
}

struct Connection {
    peer: SocketAddr,
    app: Router,
    header_timeout: Duration,
    stop: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
    _held: Held,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream) {
        let peer = self.peer;
        let app = self.app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(Body::new);
            // What `into_make_service_with_connect_info` provides: ClientInfo starts from it.
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            async move { Ok::<_, Infallible>(app.call(request).await.unwrap_or_else(|never| match never {})) }
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout);
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut connection = std::pin::pin!(connection);
        let mut stopping = *self.stop.borrow();
        if stopping {
            connection.as_mut().graceful_shutdown();
        }
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                    break;
                }
                _ = self.stop.changed(), if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// A short answer to a connection past a limit, then closed. The client's request is read (a
/// little, briefly) so that closing does not reset the connection before the answer arrives.
async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    let (status, error, message) = match refusal {
        Refusal::Full => (
            "503 Service Unavailable",
            "busy",
            "The server has as many connections open as it takes. Try again in a moment.".to_string(),
        ),
        Refusal::ClientShare(share) => (
            "429 Too Many Requests",
            "too_many_connections",
            format!(
                "Your network has {share} connections open to this server, the most one network may have. Close other tabs of this site or wait a moment, then try again."
            ),
        ),
    };
    let body = serde_json::to_string(&ApiError {
        error: error.into(),
        message,
    })
    .unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut read = 0;
        while read < 64 * 1024 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => read += n,
            }
        }
        Ok::<_, io::Error>(())
    })
    .await;
}

/// Errors of one connection (the client went away during the handshake) are skipped; others
/// (out of file descriptors) are logged and waited out, as `axum::serve` does.
async fn on_accept_error(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(extra: &[&str]) -> ConnectionLimits {
        ConnectionLimits::new(&crate::http::front_door::http_settings(extra))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn connections_are_capped_in_all_and_per_client_but_not_for_a_trusted_proxy() {
        let limits = limits(&["--max-connections", "8", "--trusted-proxies", "10.0.0.1"]);
        let a: Vec<_> = (0..2)
            .map(|_| limits.admit(ip("2001:db8::1")).expect("a"))
            .collect();
        // The same /64 from another address: the share (a quarter of 8) is spent.
        assert_eq!(
            limits.admit(ip("2001:db8::2")).err(),
            Some(Refusal::ClientShare(2))
        );
        let proxy: Vec<_> = (0..6)
            .map(|_| limits.admit(ip("10.0.0.1")).expect("proxy"))
            .collect();
        assert_eq!(limits.open(), 8);
        assert_eq!(limits.admit(ip("192.0.2.9")).err(), Some(Refusal::Full));
        drop(a);
        drop(proxy);
        assert_eq!(limits.open(), 0);
        assert!(limits.admit(ip("2001:db8::2")).is_ok());
    }
}
