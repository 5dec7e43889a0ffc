//! The pure half of pixgate: everything that turns a request's text into a
//! decision, with no I/O. The server calls into it; it never calls back.

pub mod action;
pub mod dialect;
pub mod error;
pub mod fit;
pub mod geometry;
pub mod metadata;
pub mod params;
pub mod plan;
pub mod policy;
pub mod query;
pub mod save;
pub mod signature;
pub mod style;

pub use action::format::Format;
pub use dialect::{
    DIALECTS, Dialect, DialectError, Incoming, Operation, ProcessSource, classify, pick,
};
pub use error::{PlanError, PlanErrorKind};
pub use metadata::{Metadata, MetadataKind, Space};
pub use plan::{Deliver, Output, Plan, SizeLimit, Step};
pub use policy::Policy;
pub use query::Query;
