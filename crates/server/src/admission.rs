//! Admission control: a bounded number of processed requests run at once and
//! a bounded number wait; past that the proxy answers 503 at once instead of
//! letting memory and latency grow without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::AdmissionConfig;
use crate::error::{ApiError, Code};

#[derive(Debug)]
pub struct Admission {
    slots: Arc<Semaphore>,
    total: usize,
    waiting: AtomicUsize,
    max_queued: usize,
    pub timeout: Duration,
}

impl Admission {
    pub fn new(c: &AdmissionConfig) -> Admission {
        let slots = if c.max_concurrent == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            c.max_concurrent
        };
        Admission {
            slots: Arc::new(Semaphore::new(slots)),
            total: slots,
            waiting: AtomicUsize::new(0),
            max_queued: c.max_queued,
            timeout: Duration::from_millis(c.request_timeout_ms),
        }
    }

    /// (slots in use, requests waiting), for `/metrics`.
    pub fn load(&self) -> (usize, usize) {
        (
            self.total - self.slots.available_permits(),
            self.waiting.load(Ordering::Relaxed),
        )
    }

    /// A slot to process one request, waiting in line if there is room.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let permit = self.slots.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit.map_err(|_| busy())
    }
}

pub fn busy() -> ApiError {
    ApiError::new(
        Code::ServiceUnavailable,
        "The proxy is busy processing other images; retry shortly.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_slots_and_queue_it_refuses() {
        let a = Admission::new(&AdmissionConfig {
            max_concurrent: 1,
            max_queued: 0,
            request_timeout_ms: 1000,
        });
        let first = a.enter().await.unwrap();
        assert_eq!(a.enter().await.unwrap_err().code, Code::ServiceUnavailable);
        drop(first);
        assert!(a.enter().await.is_ok());
    }
}
