//! Open client connections and when each must be closed.
//!
//! A connection that has not completed a request is allowed
//! `header_read_timeout` from its accept (first byte and whole header alike,
//! HTTP/1 and h2c: the protocol is not known until bytes arrive, so hyper's
//! own timer cannot cover the silence before them); one with nothing in
//! progress is allowed `idle_timeout` since its last response ended; one
//! whose every request is only sending its response, and whose client has
//! taken no bytes for `send_timeout`, is closed too (a reader that never
//! reads must not hold a connection forever). At the
//! connection cap the oldest connection with nothing in progress is closed
//! to make room, so silent sockets can never lock out a health probe; when
//! every connection is working, the newcomer gets an immediate 503.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

#[derive(Debug)]
pub struct Connections {
    cap: usize,
    header_timeout: Duration,
    idle_timeout: Duration,
    send_timeout: Duration,
    /// By accept order: the first idle entry is the oldest.
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
}

/// One open connection, shared by its task and its requests.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    /// Requests (h2: streams) whose response has not ended.
    busy: AtomicUsize,
    /// Of those, the ones whose response exists and is being sent.
    sending: AtomicUsize,
    /// When the client last took response bytes.
    progress: Mutex<Instant>,
    /// When the last response ended; `None` before the first one.
    idle_since: Mutex<Option<Instant>>,
    accepted: Instant,
    /// Wakes the connection's watcher: closed from outside.
    changed: Notify,
    close: AtomicBool,
}

/// Held while a request's response is being produced and sent.
#[derive(Debug)]
pub struct Busy {
    conn: Arc<Conn>,
    sending: bool,
    /// When the response ended, if the caller has read the clock already.
    ended: Option<Instant>,
}

impl Busy {
    /// The response exists: from now on the client's reading is the clock.
    pub fn sending(&mut self) {
        if !self.sending {
            self.sending = true;
            self.conn.progressed();
            self.conn.sending.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The client took bytes.
    pub fn progressed(&self) {
        self.conn.progressed();
    }

    /// The response ended at `now`: the connection is idle from then on.
    pub fn end_at(mut self, now: Instant) {
        self.ended = Some(now);
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *lock(&self.conn.idle_since) = Some(self.ended.unwrap_or_else(Instant::now));
        if self.sending {
            self.conn.sending.fetch_sub(1, Ordering::SeqCst);
        }
        self.conn.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data under these locks stays valid whatever panicked.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Connections {
    pub fn new(cap: usize, header_timeout: Duration, idle_timeout: Duration) -> Connections {
        Connections {
            cap: cap.max(1),
            header_timeout,
            idle_timeout,
            send_timeout: idle_timeout,
            open: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
        }
    }

    /// Registers a just-accepted connection, closing the oldest idle one if
    /// the cap is reached; `None` when every open connection is working.
    pub fn register(&self) -> Option<Arc<Conn>> {
        let mut open = lock(&self.open);
        if open.len() >= self.cap {
            let oldest_idle = open
                .iter()
                .find(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
                .map(|(id, _)| *id);
            let victim = open.remove(&oldest_idle?)?;
            victim.close.store(true, Ordering::SeqCst);
            victim.changed.notify_one();
        }
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            busy: AtomicUsize::new(0),
            sending: AtomicUsize::new(0),
            progress: Mutex::new(Instant::now()),
            idle_since: Mutex::new(None),
            accepted: Instant::now(),
            changed: Notify::new(),
            close: AtomicBool::new(false),
        });
        open.insert(conn.id, conn.clone());
        Some(conn)
    }

    pub fn remove(&self, conn: &Conn) {
        lock(&self.open).remove(&conn.id);
    }

    #[cfg(test)]
    fn open(&self) -> usize {
        lock(&self.open).len()
    }

    /// How long a client may take no response bytes (default: the idle
    /// timeout).
    pub fn with_send_timeout(mut self, send_timeout: Duration) -> Connections {
        self.send_timeout = send_timeout;
        self
    }

    /// Resolves when `conn` should be closed: evicted, silent past the
    /// header timeout, idle past the idle timeout, or not reading its
    /// responses past the send timeout. Never while a response is being
    /// produced (the request deadline bounds that).
    /// Returns why: `evicted`, `silent`, `idle` or `stalled`.
    ///
    /// Only eviction wakes the watcher. Requests starting, sending and
    /// ending wake nobody (that was three wake-ups of the connection's task
    /// per request): the watcher looks again at the state no later than
    /// `min(send, idle timeout)` from its last look, which is before any
    /// deadline a change since then can have set.
    pub async fn expired(&self, conn: &Conn) -> &'static str {
        let step = self
            .send_timeout
            .min(self.idle_timeout)
            .max(Duration::from_millis(1));
        loop {
            if conn.close.load(Ordering::SeqCst) {
                return "evicted";
            }
            let changed = conn.changed.notified();
            let now = Instant::now();
            let busy = conn.busy.load(Ordering::SeqCst);
            let deadline = if busy > 0 {
                // Only when every request is waiting on the client to read.
                (conn.sending.load(Ordering::SeqCst) == busy)
                    .then(|| (*lock(&conn.progress) + self.send_timeout, "stalled"))
            } else {
                Some(match *lock(&conn.idle_since) {
                    None => (conn.accepted + self.header_timeout, "silent"),
                    Some(since) => (since + self.idle_timeout, "idle"),
                })
            };
            let next_look = now + step;
            let until = match deadline {
                Some((t, reason)) if t <= now => return reason,
                Some((t, _)) => t.min(next_look),
                None => next_look,
            };
            tokio::select! {
                () = changed => {}
                () = tokio::time::sleep_until(until.into()) => {}
            }
        }
    }
}

impl Conn {
    /// Marks a request in progress until the returned guard is dropped.
    pub fn busy(self: &Arc<Conn>) -> Busy {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy {
            conn: self.clone(),
            sending: false,
            ended: None,
        }
    }

    fn progressed(&self) {
        *lock(&self.progress) = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let c = Connections::new(2, Duration::from_secs(1), Duration::from_secs(1));
        let a = c.register().unwrap();
        let b = c.register().unwrap();
        let _working = a.busy();
        let n = c.register().unwrap();
        // `a` is working, so `b` (the oldest idle) was closed.
        assert!(b.close.load(Ordering::SeqCst));
        assert!(!a.close.load(Ordering::SeqCst));
        assert_eq!(c.open(), 2);
        let _also = n.busy();
        assert!(c.register().is_none(), "every connection is working");
    }

    #[tokio::test]
    async fn silent_connections_expire_after_the_header_timeout() {
        let c = Connections::new(8, Duration::from_millis(200), Duration::from_secs(60));
        let conn = c.register().unwrap();
        let started = Instant::now();
        assert_eq!(c.expired(&conn).await, "silent");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_working_connection_does_not_expire_and_idles_after() {
        let c = Arc::new(Connections::new(
            8,
            Duration::from_millis(50),
            Duration::from_millis(300),
        ));
        let conn = c.register().unwrap();
        let busy = conn.busy();
        let watch = {
            let (c, conn) = (c.clone(), conn.clone());
            tokio::spawn(async move { c.expired(&conn).await })
        };
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            !watch.is_finished(),
            "expired while a request was in progress"
        );
        drop(busy);
        let idle = Instant::now();
        assert_eq!(watch.await.unwrap(), "idle");
        let waited = idle.elapsed();
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_its_response_is_cut_off() {
        let c = Arc::new(
            Connections::new(8, Duration::from_secs(60), Duration::from_secs(60))
                .with_send_timeout(Duration::from_millis(200)),
        );
        let conn = c.register().unwrap();
        let mut busy = conn.busy();
        let watch = {
            let (c, conn) = (c.clone(), conn.clone());
            tokio::spawn(async move { c.expired(&conn).await })
        };
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!watch.is_finished(), "cut off while the response was made");
        busy.sending();
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            busy.progressed();
        }
        assert!(!watch.is_finished(), "cut off while the client was reading");
        let stalled = Instant::now();
        assert_eq!(watch.await.unwrap(), "stalled");
        let waited = stalled.elapsed();
        assert!(waited >= Duration::from_millis(150) && waited < Duration::from_secs(2));
    }
}
