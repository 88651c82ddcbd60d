//! The ELF reader and the `.ARM.attributes` parser on arbitrary bytes: errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyx::audit::{arm_attributes, elf};

fuzz_target!(|data: &[u8]| {
    let _ = arm_attributes::parse(data, false);
    let _ = arm_attributes::parse(data, true);
    if let Ok(info) = elf::parse(data) {
        let _ = pyx::audit::target_of(&info);
        let _ = pyx::audit::manylinux_floor(&info, &|_| false);
    }
});
