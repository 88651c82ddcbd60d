//! Deploying to devices: the target's own pip as the judge of a wheelhouse (`pyx test --pip`:
//! tags, `Requires-Python`, dependencies, hashes, as a device decides them), and a static package
//! index (PEP 503 and PEP 691) devices install from (`pyx index`). See docs/deploy.md.

pub mod emulator;
pub mod index;
pub mod pip;
pub mod refusal;
pub mod requirements;
