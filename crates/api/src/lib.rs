//! The pure half of pixgate: everything that turns a request's text into a
//! decision, with no I/O. The server calls into it; it never calls back.

pub mod dialect;
pub mod query;

pub use dialect::{Dialect, DialectError, Operation, ProcessSource, classify};
pub use query::Query;
