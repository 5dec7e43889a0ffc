//! Admission control. A processed request is first *admitted* — at most
//! `workers + prefetch` are at once, a bounded number wait, the rest get 503
//! at once — and only admitted requests hold source bytes. An admitted
//! request downloads its source without a worker, then takes one of
//! `workers` slots for the pixel work: downloads overlap the work of others
//! (the CPU is not idle while an upstream answers), and memory stays bounded
//! by `(workers + prefetch) × byte cap` plus pixels.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::AdmissionConfig;
use crate::error::{ApiError, Code};

#[derive(Debug)]
pub struct Admission {
    admitted: Arc<Semaphore>,
    admitted_total: usize,
    workers: Arc<Semaphore>,
    workers_total: usize,
    waiting: AtomicUsize,
    max_queued: usize,
    pub timeout: Duration,
}

/// An admitted request; dropping it lets the next one in.
#[derive(Debug)]
pub struct Ticket(#[allow(dead_code)] OwnedSemaphorePermit);

/// What `/metrics` reports.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub admitted: usize,
    pub workers_busy: usize,
    pub queued: usize,
}

impl Admission {
    pub fn new(c: &AdmissionConfig) -> Admission {
        let workers = if c.max_concurrent == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            c.max_concurrent
        };
        let prefetch = c.prefetch.unwrap_or(workers);
        Admission {
            admitted: Arc::new(Semaphore::new(workers + prefetch)),
            admitted_total: workers + prefetch,
            workers: Arc::new(Semaphore::new(workers)),
            workers_total: workers,
            waiting: AtomicUsize::new(0),
            max_queued: c.max_queued,
            timeout: Duration::from_millis(c.request_timeout_ms),
        }
    }

    pub fn load(&self) -> Load {
        Load {
            admitted: self.admitted_total - self.admitted.available_permits(),
            workers_busy: self.workers_total - self.workers.available_permits(),
            queued: self.waiting.load(Ordering::Relaxed),
        }
    }

    /// Admission, waiting in line if there is room in it.
    pub async fn admit(&self) -> Result<Ticket, ApiError> {
        if let Ok(permit) = self.admitted.clone().try_acquire_owned() {
            return Ok(Ticket(permit));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let permit = self.admitted.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit.map(Ticket).map_err(|_| busy())
    }

    /// A worker slot for an admitted request's pixel work. Only admitted
    /// requests wait here, so this wait is bounded without a queue of its own.
    pub async fn work(&self, _admitted: &Ticket) -> Result<OwnedSemaphorePermit, ApiError> {
        self.workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| busy())
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

    fn config(workers: usize, prefetch: usize, queued: usize) -> AdmissionConfig {
        AdmissionConfig {
            max_concurrent: workers,
            prefetch: Some(prefetch),
            max_queued: queued,
            request_timeout_ms: 1000,
        }
    }

    #[tokio::test]
    async fn past_admission_and_queue_it_refuses() {
        let a = Admission::new(&config(1, 0, 0));
        let first = a.admit().await.unwrap();
        assert_eq!(a.admit().await.unwrap_err().code, Code::ServiceUnavailable);
        drop(first);
        assert!(a.admit().await.is_ok());
    }

    #[tokio::test]
    async fn prefetching_requests_are_admitted_but_wait_for_a_worker() {
        let a = Admission::new(&config(1, 1, 0));
        let first = a.admit().await.unwrap();
        let second = a.admit().await.unwrap();
        let working = a.work(&first).await.unwrap();
        assert_eq!(a.load().workers_busy, 1);
        assert_eq!(a.load().admitted, 2);
        // The second holds its source but no worker until the first is done.
        let waiting = tokio::time::timeout(Duration::from_millis(50), a.work(&second)).await;
        assert!(waiting.is_err());
        assert_eq!(a.admit().await.unwrap_err().code, Code::ServiceUnavailable);
        drop(working);
        drop(first);
        assert!(a.work(&second).await.is_ok());
    }
}
