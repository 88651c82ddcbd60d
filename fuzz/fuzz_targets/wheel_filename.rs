//! Wheel file names and platform tags: parsing never panics, and what parses round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyx::platform::tags::PlatformTag;
use pyx::wheel::WheelFilename;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(name) = s.parse::<WheelFilename>() {
        assert_eq!(name.to_string(), s);
        let _ = name.tag_triples();
    }
    if let Ok(tag) = s.parse::<PlatformTag>() {
        assert_eq!(tag.to_string(), s);
        let _ = tag.target();
    }
});
