//! Progress of the scans running in this process, for `GET /scans/{id}` and the pages'
//! Server-Sent Events. Kept in memory only: after a restart a scan is re-queued, not resumed.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LiveState {
    pub status: String,
    pub done: u32,
    pub total: u32,
    pub phase: String,
}

#[derive(Clone, Default)]
pub struct Live {
    map: Arc<Mutex<HashMap<i64, watch::Sender<LiveState>>>>,
}

impl Live {
    pub fn start(&self, scan: i64) -> watch::Sender<LiveState> {
        let (tx, _) = watch::channel(LiveState {
            status: "running".into(),
            phase: "starting".into(),
            ..LiveState::default()
        });
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(scan, tx.clone());
        tx
    }

    /// Publishes the end (subscribers see it) and forgets the scan.
    pub fn finish(&self, scan: i64, status: &str) {
        let tx = self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&scan);
        if let Some(tx) = tx {
            tx.send_modify(|s| s.status = status.to_string());
        }
    }

    pub fn get(&self, scan: i64) -> Option<LiveState> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&scan).map(|tx| tx.borrow().clone())
    }

    /// A receiver whose first `changed()` returns at once, so a new subscriber gets the
    /// current state before the next change.
    pub fn subscribe(&self, scan: i64) -> Option<watch::Receiver<LiveState>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&scan).map(|tx| {
            let mut rx = tx.subscribe();
            rx.mark_changed();
            rx
        })
    }
}
