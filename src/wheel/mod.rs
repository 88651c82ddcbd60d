//! Wheels (PEP 427): file names, `.dist-info` metadata, `RECORD`, a defensive reader, and the
//! retag rewrite.

pub mod filename;
pub mod metadata;
pub mod reader;
pub mod record;
pub mod rewrite;

pub use filename::WheelFilename;
pub use metadata::{WheelInfo, WheelMetadata, read_wheel_metadata};
pub use reader::{WheelArchive, WheelError};
