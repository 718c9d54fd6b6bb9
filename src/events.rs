//! The in-process event bus: DAG, import-error, run and task changes, fanned out to
//! subscribers (the API's Server-Sent Events stream, tests).
//!
//! **Invariant:** publishing never blocks and never fails; a slow subscriber misses events
//! (and is told so by a `lagged` event) rather than holding anyone up.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

/// One change, as sent to SSE clients: `event: <kind>` and `data: <json>`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub kind: String,
    pub data: Value,
}

/// A cheap-to-clone handle on the bus.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl EventBus {
    /// A bus that buffers up to `capacity` events per subscriber.
    pub fn new(capacity: usize) -> EventBus {
        EventBus {
            tx: broadcast::channel(capacity).0,
        }
    }

    /// Sends `data` as an event of `kind` to every current subscriber.
    pub fn publish(&self, kind: impl Into<String>, data: Value) {
        let _ = self.tx.send(Arc::new(Event {
            kind: kind.into(),
            data,
        }));
    }

    /// A new subscription that sees every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_events_in_order() {
        let bus = EventBus::new(8);
        let mut rx = bus.subscribe();
        bus.publish("dag_updated", serde_json::json!({"dag_id": "a"}));
        bus.publish("dag_updated", serde_json::json!({"dag_id": "b"}));
        assert_eq!(rx.recv().await.unwrap().data["dag_id"], "a");
        assert_eq!(rx.recv().await.unwrap().data["dag_id"], "b");
    }
}
