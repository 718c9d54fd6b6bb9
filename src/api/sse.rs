//! `GET /ui/events`: the event bus as Server-Sent Events (`event: <kind>`, `data: <json>`).
//!
//! A subscriber that falls behind gets a `lagged` event (it should refetch what it shows). The
//! stream ends when the server shuts down.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::AppState;

/// The SSE stream of every event published from now on.
pub async fn events(
    State(s): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut rx = s.events.subscribe();
    let mut shutdown = s.shutdown.clone();
    let stream = async_stream(move |tx| async move {
        let _ = tx.send(Event::default().event("hello").data("{}")).await;
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(ev) => {
                        let data = serde_json::to_string(&ev.data).unwrap_or_else(|_| "{}".into());
                        if tx.send(Event::default().event(ev.kind.clone()).data(data)).await.is_err() {
                            break;
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        if tx.send(Event::default().event("lagged").data(format!("{{\"missed\":{n}}}"))).await.is_err() {
                            break;
                        }
                    }
                    Err(RecvError::Closed) => break,
                },
                _ = async { let _ = shutdown.wait_for(|s| *s).await; } => break,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A stream fed by a task through a small channel.
fn async_stream<F, Fut>(f: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(f(tx));
    futures_util::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), Ok)
}
