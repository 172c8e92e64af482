//! The HTTP/1.1 server under every emulator: hyper's server connection over a tokio
//! listener on `127.0.0.1`, a random port. It knows nothing of OAuth: it hands each
//! request, body read whole, to a [`Handler`] and writes the [`Response`] back (after
//! its delay, cut short if asked).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use http_body_util::BodyExt as _;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::message::{Ending, Request, Response};

/// Answers requests.
pub(crate) trait Handler: Send + Sync + 'static {
    fn handle(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;
}

/// A running server; dropping it stops the listener and every connection.
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `127.0.0.1:0` and serves `handler` in a spawned task.
    pub(crate) async fn start(handler: Arc<dyn Handler>) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // Connections live in the set, so aborting the accept loop ends them too.
            let mut connections = JoinSet::new();
            loop {
                let (stream, _) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::debug!(%error, "emulator: accept failed");
                        continue;
                    }
                };
                while connections.try_join_next().is_some() {}
                let handler = Arc::clone(&handler);
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        let handler = Arc::clone(&handler);
                        async move { Ok::<_, Infallible>(serve(handler, request).await) }
                    });
                    if let Err(error) = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(%error, "emulator: connection ended");
                    }
                });
            }
        });
        Ok(Self { addr, task })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    handler: Arc<dyn Handler>,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Body> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let request = Request::new(parts.method, &path_and_query, parts.headers, body);
    let response = handler.handle(request).await;
    if let Some(delay) = response.delay {
        tokio::time::sleep(delay).await;
    }
    let full_length = response.body.len();
    let mut out = hyper::Response::new(match response.ending {
        Ending::Whole => Body::Whole(Some(response.body)),
        Ending::Cut => {
            // Announce the whole length, send half: the client's read fails mid-body.
            let half = response.body.slice(..response.body.len() / 2);
            Body::Cut(Some(half))
        }
    });
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    if response.ending == Ending::Cut {
        out.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(full_length.max(2)),
        );
    }
    out
}

/// A response body: whole, or cut (its bytes, then an error that makes hyper drop the
/// connection).
pub(crate) enum Body {
    Whole(Option<Bytes>),
    Cut(Option<Bytes>),
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut *self {
            Body::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Cut(bytes) => Poll::Ready(Some(match bytes.take() {
                Some(b) if !b.is_empty() => Ok(Frame::data(b)),
                _ => Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "emulator fault: response lost",
                )),
            })),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Whole(None))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            Body::Whole(Some(b)) => http_body::SizeHint::with_exact(b.len() as u64),
            Body::Whole(None) => http_body::SizeHint::with_exact(0),
            Body::Cut(_) => http_body::SizeHint::default(),
        }
    }
}
