//! The ELF objects of a static library (`!<arch>`, GNU or BSD `ar`) read from a stream: the
//! member headers and each object's ELF header, never the whole library. The audit checks an
//! object's machine, which its ELF header says.

use super::elf::{self, ElfInfo};

/// The magic of a `!<arch>` static library.
pub const MAGIC: &[u8] = b"!<arch>\n";
/// The longest GNU long-name table (`//`) kept; names in a bigger one read `?`.
const MAX_NAMES: u64 = 1 << 20;
/// An ELF header is at most this long (ELFCLASS64).
const ELF_HEADER: u64 = 64;

enum State {
    Magic,
    Header,
    /// A member's data: its name (or `None` for a table), how much is left, and what to keep.
    Data {
        name: Option<String>,
        left: u64,
        keep: Keep,
        pad: bool,
    },
    /// Not an archive pyx can read further: the objects so far stand.
    Done,
}

#[derive(Clone, Copy, PartialEq)]
enum Keep {
    /// A BSD `#1/N` name of `N` bytes, then the object's header.
    BsdName(u64),
    ElfHeader,
    LongNames,
    Nothing,
}

/// A static library being streamed: [`ArStream::feed`] it every chunk, then take
/// [`ArStream::objects`].
pub struct ArStream {
    state: State,
    buf: Vec<u8>,
    long_names: Vec<u8>,
    objects: Vec<(String, ElfInfo)>,
}

impl Default for ArStream {
    fn default() -> Self {
        ArStream {
            state: State::Magic,
            buf: Vec::new(),
            long_names: Vec::new(),
            objects: Vec::new(),
        }
    }
}

impl ArStream {
    pub fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            let used = self.step(chunk);
            chunk = &chunk[used..];
        }
    }

    /// The ELF objects whose headers parse (others are not code pyx can check).
    pub fn objects(self) -> Vec<(String, ElfInfo)> {
        self.objects
    }

    /// Take bytes from the front of `chunk` for the current state; returns how many.
    fn step(&mut self, chunk: &[u8]) -> usize {
        match &mut self.state {
            State::Done => chunk.len(),
            State::Magic => {
                let used = fill(&mut self.buf, chunk, MAGIC.len());
                if self.buf.len() == MAGIC.len() {
                    self.state = if self.buf == MAGIC {
                        State::Header
                    } else {
                        State::Done
                    };
                    self.buf.clear();
                }
                used
            }
            State::Header => {
                let used = fill(&mut self.buf, chunk, 60);
                if self.buf.len() == 60 {
                    self.state = self.member();
                    self.buf.clear();
                }
                used
            }
            State::Data {
                name,
                left,
                keep,
                pad,
            } => {
                let avail = (*left).min(chunk.len() as u64) as usize;
                let want = match *keep {
                    Keep::BsdName(n) => n,
                    Keep::ElfHeader => ELF_HEADER,
                    Keep::LongNames => MAX_NAMES,
                    Keep::Nothing => 0,
                };
                let taken = fill(&mut self.buf, &chunk[..avail], want as usize);
                // A BSD name is followed by the object: its bytes are for the next step.
                let used = if matches!(keep, Keep::BsdName(_)) {
                    taken
                } else {
                    avail
                };
                *left -= used as u64;
                if let Keep::BsdName(n) = *keep {
                    if self.buf.len() as u64 == n {
                        let text = String::from_utf8_lossy(&self.buf);
                        let text = text.trim_end_matches('\0').to_string();
                        *keep = if text.starts_with("__.SYMDEF") {
                            Keep::Nothing
                        } else {
                            Keep::ElfHeader
                        };
                        *name = Some(text);
                        self.buf.clear();
                    }
                } else if *left == 0 || (*keep == Keep::ElfHeader && self.buf.len() as u64 == want)
                {
                    if *keep == Keep::ElfHeader
                        && elf::is_elf(&self.buf)
                        && let Ok(info) = elf::parse_header(&self.buf)
                    {
                        self.objects.push((name.take().unwrap_or_default(), info));
                    }
                    if *keep == Keep::LongNames {
                        self.long_names = std::mem::take(&mut self.buf);
                    }
                    *keep = Keep::Nothing;
                    self.buf.clear();
                }
                if *left == 0 && !matches!(keep, Keep::BsdName(_)) {
                    if *pad {
                        *pad = false;
                        *left = 1;
                    } else {
                        self.state = State::Header;
                    }
                }
                used
            }
        }
    }

    /// The state after a member header (in `buf`).
    fn member(&self) -> State {
        let h = &self.buf;
        if &h[58..60] != b"`\n" {
            return State::Done;
        }
        let Some(size) = std::str::from_utf8(&h[48..58])
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        else {
            return State::Done;
        };
        let field = String::from_utf8_lossy(&h[..16]).trim_end().to_string();
        let (name, keep) = if field == "/" || field == "/SYM64/" || field.starts_with("__.SYMDEF") {
            (None, Keep::Nothing)
        } else if field == "//" {
            (None, Keep::LongNames)
        } else if let Some(n) = field.strip_prefix("#1/") {
            match n.parse::<u64>() {
                Ok(0) => (Some(String::new()), Keep::ElfHeader),
                Ok(n) if n <= size => (None, Keep::BsdName(n)),
                _ => return State::Done,
            }
        } else if let Some(offset) = field.strip_prefix('/') {
            let name = offset
                .parse::<usize>()
                .ok()
                .and_then(|o| self.long_names.get(o..))
                .map(|rest| {
                    let end = rest
                        .windows(2)
                        .position(|w| w == b"/\n")
                        .unwrap_or(rest.len());
                    String::from_utf8_lossy(&rest[..end]).into_owned()
                })
                .unwrap_or_else(|| "?".to_string());
            (Some(name), Keep::ElfHeader)
        } else {
            (
                Some(field.trim_end_matches('/').to_string()),
                Keep::ElfHeader,
            )
        };
        State::Data {
            name,
            left: size,
            keep,
            pad: size % 2 == 1,
        }
    }
}

/// Move bytes from `chunk` into `buf` until it holds `want`; returns how many were taken.
fn fill(buf: &mut Vec<u8>, chunk: &[u8], want: usize) -> usize {
    let take = want.saturating_sub(buf.len()).min(chunk.len());
    buf.extend_from_slice(&chunk[..take]);
    take
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A library made by the real `ar` (GNU, with a long-name table) or `llvm-ar --format=bsd`
    /// from the ELF fixtures and a text file.
    fn library(tool: &[&str]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let elf = format!("{}/fixtures/elf", env!("CARGO_MANIFEST_DIR"));
        let mut members = Vec::new();
        for (name, from) in [
            ("short.o", "armv7l.so"),
            ("a_rather_long_object_name_for_the_table.o", "x86_64.so"),
            ("odd.o", "armv7l-truncated.so"),
        ] {
            std::fs::copy(format!("{elf}/{from}"), dir.path().join(name)).unwrap();
            members.push(name);
        }
        std::fs::write(dir.path().join("notes.txt"), "odd length").unwrap();
        members.push("notes.txt");
        let out = std::process::Command::new(tool[0])
            .args(&tool[1..])
            .arg("lib.a")
            .args(&members)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(dir.path().join("lib.a")).unwrap()
    }

    fn objects(data: &[u8], chunk: usize) -> Vec<(String, u16)> {
        let mut s = ArStream::default();
        for c in data.chunks(chunk) {
            s.feed(c);
        }
        s.objects()
            .into_iter()
            .map(|(n, i)| (n, i.machine))
            .collect()
    }

    #[test]
    fn gnu_and_bsd_libraries_give_each_objects_header_however_chunked() {
        let want = vec![
            ("short.o".to_string(), crate::platform::arch::em::ARM),
            (
                "a_rather_long_object_name_for_the_table.o".to_string(),
                crate::platform::arch::em::X86_64,
            ),
            ("odd.o".to_string(), crate::platform::arch::em::ARM),
        ];
        for tool in [&["ar", "rcs"][..], &["llvm-ar", "rcS", "--format=bsd"][..]] {
            let data = library(tool);
            assert!(data.starts_with(MAGIC));
            for chunk in [1, 3, 60, 61, 4096] {
                assert_eq!(
                    objects(&data, chunk),
                    want,
                    "{tool:?} in {chunk}-byte chunks"
                );
            }
        }
        assert!(objects(b"!<arch>\nnonsense that is no header", 5).is_empty());
    }
}
