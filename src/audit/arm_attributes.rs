//! A reader for the ARM `.ARM.attributes` section (ARM IHI 0045, "Addenda to, and Errata in, the
//! ABI for the Arm Architecture", section 2): the `aeabi` vendor subsection's file-scope tags,
//! in particular `Tag_CPU_arch`, which tells ARMv6 code from ARMv7 code.

/// `SHT_ARM_ATTRIBUTES`, the section type of `.ARM.attributes`.
pub const SHT_ARM_ATTRIBUTES: u32 = 0x7000_0003;

const TAG_FILE: u64 = 1;
const TAG_CPU_RAW_NAME: u64 = 4;
const TAG_CPU_NAME: u64 = 5;
const TAG_CPU_ARCH: u64 = 6;
const TAG_CPU_ARCH_PROFILE: u64 = 7;
const TAG_ARM_ISA_USE: u64 = 8;
const TAG_THUMB_ISA_USE: u64 = 9;
const TAG_FP_ARCH: u64 = 10;
const TAG_ABI_VFP_ARGS: u64 = 28;
const TAG_COMPATIBILITY: u64 = 32;
const TAG_CONFORMANCE: u64 = 67;

/// The file-scope `aeabi` attributes pyx cares about.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ArmAttributes {
    pub cpu_name: Option<String>,
    /// `Tag_CPU_arch` (see [`cpu_arch_name`]).
    pub cpu_arch: Option<u8>,
    /// `Tag_CPU_arch_profile`: `A`, `R`, `M`, `S` or 0.
    pub cpu_arch_profile: Option<u8>,
    pub arm_isa_use: Option<u8>,
    pub thumb_isa_use: Option<u8>,
    pub fp_arch: Option<u8>,
    /// `Tag_ABI_VFP_args`: 0 base (soft-float) variant, 1 VFP registers (hard-float).
    pub abi_vfp_args: Option<u8>,
}

/// Why an attributes section cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArmAttributesError {
    #[error("`.ARM.attributes` has format version {0:#04x}, expected `A` (0x41)")]
    Version(u8),
    #[error("`.ARM.attributes` is truncated at offset {0}")]
    Truncated(usize),
    #[error("`.ARM.attributes` has a subsection of impossible length {len} at offset {at}")]
    Length { at: usize, len: u32 },
}

/// The architecture name of a `Tag_CPU_arch` value.
pub fn cpu_arch_name(value: u8) -> &'static str {
    match value {
        0 => "pre-v4",
        1 => "v4",
        2 => "v4T",
        3 => "v5T",
        4 => "v5TE",
        5 => "v5TEJ",
        6 => "v6",
        7 => "v6KZ",
        8 => "v6T2",
        9 => "v6K",
        10 => "v7",
        11 => "v6-M",
        12 => "v6S-M",
        13 => "v7E-M",
        14 => "v8-A",
        15 => "v8-R",
        16 => "v8-M.baseline",
        17 => "v8-M.mainline",
        18 => "v8.1-A",
        19 => "v8.2-A",
        20 => "v8.3-A",
        21 => "v8.1-M.mainline",
        22 => "v9-A",
        _ => "unknown",
    }
}

/// True when code of `found` architecture runs on a CPU whose newest architecture is `max`.
/// The v6 family is not ordered by number: v6T2 (Thumb-2) does not run on an ARM1176 (v6KZ).
pub fn cpu_arch_runs_on(found: u8, max: u8) -> bool {
    match max {
        6..=9 => matches!(found, 0..=7 | 9) || found == max,
        10 => found <= 10,
        _ => found <= max,
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn uleb(&mut self) -> Result<u64, ArmAttributesError> {
        let mut value: u64 = 0;
        let mut shift = 0;
        loop {
            let byte = *self
                .data
                .get(self.pos)
                .ok_or(ArmAttributesError::Truncated(self.pos))?;
            self.pos += 1;
            if shift < 64 {
                value |= u64::from(byte & 0x7f) << shift;
            }
            shift += 7;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
    }

    fn ntbs(&mut self) -> Result<&[u8], ArmAttributesError> {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(ArmAttributesError::Truncated(self.data.len()))?;
        self.pos += end + 1;
        Ok(&rest[..end])
    }
}

fn read_u32(data: &[u8], at: usize, big_endian: bool) -> Result<u32, ArmAttributesError> {
    let bytes: [u8; 4] = data
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or(ArmAttributesError::Truncated(at))?;
    Ok(if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

/// Parse the contents of an `.ARM.attributes` section (`big_endian` as the ELF file).
pub fn parse(data: &[u8], big_endian: bool) -> Result<ArmAttributes, ArmAttributesError> {
    let mut attrs = ArmAttributes::default();
    match data.first() {
        None => return Ok(attrs),
        Some(b'A') => {}
        Some(&v) => return Err(ArmAttributesError::Version(v)),
    }
    let mut at = 1;
    while at < data.len() {
        let len = read_u32(data, at, big_endian)?;
        let end = at
            .checked_add(len as usize)
            .filter(|&e| len >= 4 && e <= data.len())
            .ok_or(ArmAttributesError::Length { at, len })?;
        let sub = &data[at + 4..end];
        let vendor_end = sub
            .iter()
            .position(|&b| b == 0)
            .ok_or(ArmAttributesError::Truncated(end))?;
        if &sub[..vendor_end] == b"aeabi" {
            parse_aeabi(
                &sub[vendor_end + 1..],
                big_endian,
                at + 5 + vendor_end,
                &mut attrs,
            )?;
        }
        at = end;
    }
    Ok(attrs)
}

fn parse_aeabi(
    data: &[u8],
    big_endian: bool,
    base: usize,
    attrs: &mut ArmAttributes,
) -> Result<(), ArmAttributesError> {
    let mut at = 0;
    while at < data.len() {
        let tag = data[at];
        let len = read_u32(data, at + 1, big_endian)
            .map_err(|_| ArmAttributesError::Truncated(base + at))?;
        let end = at
            .checked_add(len as usize)
            .filter(|&e| len >= 5 && e <= data.len())
            .ok_or(ArmAttributesError::Length { at: base + at, len })?;
        if u64::from(tag) == TAG_FILE {
            parse_tags(&data[at + 5..end], attrs)
                .map_err(|_| ArmAttributesError::Truncated(base + end))?;
        }
        at = end;
    }
    Ok(())
}

fn parse_tags(data: &[u8], attrs: &mut ArmAttributes) -> Result<(), ArmAttributesError> {
    let mut c = Cursor { data, pos: 0 };
    let small = |v: u64| u8::try_from(v).unwrap_or(u8::MAX);
    while c.pos < data.len() {
        let tag = c.uleb()?;
        match tag {
            TAG_CPU_RAW_NAME | TAG_CONFORMANCE => {
                c.ntbs()?;
            }
            TAG_CPU_NAME => attrs.cpu_name = Some(String::from_utf8_lossy(c.ntbs()?).into_owned()),
            TAG_COMPATIBILITY => {
                c.uleb()?;
                c.ntbs()?;
            }
            TAG_CPU_ARCH => attrs.cpu_arch = Some(small(c.uleb()?)),
            TAG_CPU_ARCH_PROFILE => attrs.cpu_arch_profile = Some(small(c.uleb()?)),
            TAG_ARM_ISA_USE => attrs.arm_isa_use = Some(small(c.uleb()?)),
            TAG_THUMB_ISA_USE => attrs.thumb_isa_use = Some(small(c.uleb()?)),
            TAG_FP_ARCH => attrs.fp_arch = Some(small(c.uleb()?)),
            TAG_ABI_VFP_ARGS => attrs.abi_vfp_args = Some(small(c.uleb()?)),
            // Above 32, odd tags carry strings and even tags numbers (addenda 2.2.6); 65
            // (Tag_also_compatible_with) is a string.
            t if t > 32 && t % 2 == 1 => {
                c.ntbs()?;
            }
            _ => {
                c.uleb()?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A section as GCC writes it for `-march=armv7-a -mfloat-abi=hard`.
    fn section(tags: &[u8]) -> Vec<u8> {
        let mut file = vec![1u8];
        file.extend(((5 + tags.len()) as u32).to_le_bytes());
        file.extend(tags);
        let mut sub = ((4 + 6 + file.len()) as u32).to_le_bytes().to_vec();
        sub.extend(b"aeabi\0");
        sub.extend(file);
        let mut out = vec![b'A'];
        out.extend(sub);
        out
    }

    #[test]
    fn reads_cpu_arch() {
        let data = section(&[
            5, b'7', b'-', b'A', 0, 6, 10, 7, b'A', 8, 1, 9, 2, 10, 3, 28, 1, 34, 1,
        ]);
        let a = parse(&data, false).unwrap();
        assert_eq!(a.cpu_name.as_deref(), Some("7-A"));
        assert_eq!(a.cpu_arch, Some(10));
        assert_eq!(a.cpu_arch_profile, Some(b'A'));
        assert_eq!(a.abi_vfp_args, Some(1));
        assert_eq!(cpu_arch_name(a.cpu_arch.unwrap()), "v7");
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        assert_eq!(parse(b"B", false), Err(ArmAttributesError::Version(b'B')));
        assert!(parse(b"A\xff\xff\xff\xff", false).is_err());
        let mut data = section(&[6, 0x80]);
        assert!(parse(&data, false).is_err());
        data.truncate(data.len() - 3);
        assert!(parse(&data, false).is_err());
        assert_eq!(parse(b"", false), Ok(ArmAttributes::default()));
    }

    #[test]
    fn v6_family_compatibility() {
        assert!(cpu_arch_runs_on(6, 6));
        assert!(cpu_arch_runs_on(7, 6));
        assert!(!cpu_arch_runs_on(8, 6));
        assert!(!cpu_arch_runs_on(10, 6));
        assert!(cpu_arch_runs_on(6, 10));
        assert!(!cpu_arch_runs_on(14, 10));
    }
}
