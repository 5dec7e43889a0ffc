//! When pixel work must stop: the request's deadline, or the process's
//! shutdown. Long steps call [`Stop::check`] every few rows so that an
//! abandoned request frees its worker within milliseconds, not seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::error::OpsError;

#[derive(Debug, Clone, Default)]
pub struct Stop {
    deadline: Option<Instant>,
    /// Set once for every job when the server gives up draining.
    cancelled: Option<Arc<AtomicBool>>,
}

impl Stop {
    /// Never stops.
    pub fn never() -> Stop {
        Stop::default()
    }

    pub fn new(deadline: Option<Instant>, cancelled: Option<Arc<AtomicBool>>) -> Stop {
        Stop {
            deadline,
            cancelled,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// `Err` once the deadline has passed or the job was cancelled. Costs one
    /// clock read: call it per row or per block, not per pixel.
    pub fn check(&self) -> Result<(), OpsError> {
        if let Some(c) = &self.cancelled
            && c.load(Ordering::Relaxed)
        {
            return Err(OpsError::Cancelled);
        }
        match self.deadline {
            Some(d) if Instant::now() > d => Err(OpsError::DeadlineExceeded),
            _ => Ok(()),
        }
    }
}
