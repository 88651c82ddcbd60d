//! A whole audit of arbitrary bytes saved as a wheel: findings or errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fuzz-1.0-cp311-cp311-linux_armv7l.whl");
    std::fs::write(&path, data).expect("write");
    if let Ok(report) = pyx::audit::audit_wheel(&path, None) {
        let _ = pyx::audit::derive_platform_tags(&report, true);
    }
    let _ = pyx::wheel::read_wheel_metadata(&path);
});
