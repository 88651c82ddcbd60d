//! Building wheels for the target: finding distributions ([`index`]), the worklist resolver
//! ([`resolve`]), the PEP 517 frontend ([`pep517`]) and compiler-output hints ([`error`]).

pub mod error;
pub mod index;
pub mod pep517;
pub mod resolve;
pub mod source;
