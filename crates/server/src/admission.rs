//! Admission control. A processed request that cannot be answered from the
//! caches is *admitted* — at most `workers + prefetch` are at once — and
//! only admitted requests hold source bytes. A request that has to wait —
//! for admission, for a revalidation another request is doing, or for the
//! result an identical request is computing — first takes one of
//! `max_queued` *places* in line; past them the answer is 503 at once, so
//! every waiter is counted. An admitted request downloads its source
//! without a worker, then takes one of `workers` slots for the pixel work:
//! downloads overlap the work of others (the CPU is not idle while an
//! upstream answers), and memory stays bounded by
//! `(workers + prefetch) × byte cap` plus pixels.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::AdmissionConfig;
use crate::error::{ApiError, Code};

#[derive(Debug)]
pub struct Admission {
    places: Arc<Semaphore>,
    max_queued: usize,
    admitted: Arc<Semaphore>,
    admitted_total: usize,
    workers: Arc<Semaphore>,
    workers_total: usize,
    pub timeout: Duration,
}

/// A place in line; dropping it frees the place.
#[derive(Debug)]
pub struct Place(#[allow(dead_code)] OwnedSemaphorePermit);

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
            places: Arc::new(Semaphore::new(c.max_queued)),
            max_queued: c.max_queued,
            admitted: Arc::new(Semaphore::new(workers + prefetch)),
            admitted_total: workers + prefetch,
            workers: Arc::new(Semaphore::new(workers)),
            workers_total: workers,
            timeout: Duration::from_millis(c.request_timeout_ms),
        }
    }

    pub fn load(&self) -> Load {
        Load {
            admitted: self.admitted_total - self.admitted.available_permits(),
            workers_busy: self.workers_total - self.workers.available_permits(),
            queued: self.max_queued - self.places.available_permits(),
        }
    }

    /// A place in line, unless `place` already holds one; 503 when the line
    /// is full.
    pub fn wait_in_line(&self, place: &mut Option<Place>) -> Result<(), ApiError> {
        if place.is_none() {
            let permit = self.places.clone().try_acquire_owned();
            *place = Some(Place(permit.map_err(|_| busy())?));
        }
        Ok(())
    }

    /// Admission: at once if a slot is free, else waiting in line (taking a
    /// place if `place` holds none). Once admitted the request no longer
    /// waits, and its place is given back.
    pub async fn admit(&self, place: &mut Option<Place>) -> Result<Ticket, ApiError> {
        if let Ok(permit) = self.admitted.clone().try_acquire_owned() {
            *place = None;
            return Ok(Ticket(permit));
        }
        self.wait_in_line(place)?;
        let permit = self.admitted.clone().acquire_owned().await;
        *place = None;
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
        let a = Admission::new(&config(1, 0, 1));
        let first = a.admit(&mut None).await.unwrap();
        // The second takes the only place and waits.
        let mut place = None;
        let waiting = tokio::time::timeout(Duration::from_millis(50), a.admit(&mut place)).await;
        assert!(waiting.is_err(), "admitted past the limit");
        assert_eq!(a.load().queued, 1);
        // The third finds no place.
        assert_eq!(
            a.admit(&mut None).await.unwrap_err().code,
            Code::ServiceUnavailable
        );
        drop(first);
        assert!(a.admit(&mut place).await.is_ok());
        assert!(place.is_none(), "the place is given back once admitted");
        assert_eq!(a.load().queued, 0);
    }

    #[tokio::test]
    async fn prefetching_requests_are_admitted_but_wait_for_a_worker() {
        let a = Admission::new(&config(1, 1, 0));
        let first = a.admit(&mut None).await.unwrap();
        let second = a.admit(&mut None).await.unwrap();
        let working = a.work(&first).await.unwrap();
        assert_eq!(a.load().workers_busy, 1);
        assert_eq!(a.load().admitted, 2);
        // The second holds its source but no worker until the first is done.
        let waiting = tokio::time::timeout(Duration::from_millis(50), a.work(&second)).await;
        assert!(waiting.is_err());
        // No admission left and no place in line.
        assert_eq!(
            a.admit(&mut None).await.unwrap_err().code,
            Code::ServiceUnavailable
        );
        drop(working);
        drop(first);
        assert!(a.work(&second).await.is_ok());
    }
}
