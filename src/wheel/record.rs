//! The `RECORD` file (PEP 376, PEP 427): one CSV row per member, `path,sha256=<urlsafe-b64>,size`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// One row of `RECORD`. `RECORD` itself (and signatures) have no hash and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    pub path: String,
    /// `algorithm=digest`, as written.
    pub hash: Option<String>,
    pub size: Option<u64>,
}

/// A `RECORD` line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`RECORD` line {line}: {reason}")]
pub struct RecordError {
    pub line: usize,
    pub reason: String,
}

/// Split one CSV line (RFC 4180 quoting, as Python's `csv` module writes it).
fn split_csv(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == ',' {
            fields.push(std::mem::take(&mut field));
            at_start = true;
        } else {
            field.push(c);
            at_start = false;
        }
    }
    if quoted {
        return Err("unterminated quote");
    }
    fields.push(field);
    Ok(fields)
}

/// Parse the text of a `RECORD` file.
pub fn parse(text: &str) -> Result<Vec<RecordEntry>, RecordError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let err = |reason: &str| RecordError {
            line: i + 1,
            reason: reason.to_string(),
        };
        let fields = split_csv(line).map_err(err)?;
        let [path, hash, size] = <[String; 3]>::try_from(fields)
            .map_err(|f| err(&format!("expected 3 fields, found {}", f.len())))?;
        let size = if size.is_empty() {
            None
        } else {
            Some(
                size.parse()
                    .map_err(|_| err(&format!("size `{size}` is not a number")))?,
            )
        };
        out.push(RecordEntry {
            path,
            hash: (!hash.is_empty()).then_some(hash),
            size,
        });
    }
    Ok(out)
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Write `RECORD` text (LF line endings, as `wheel` writes it).
pub fn write(entries: &[RecordEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        out.push_str(&quote(&e.path));
        out.push(',');
        out.push_str(e.hash.as_deref().unwrap_or(""));
        out.push(',');
        if let Some(s) = e.size {
            out.push_str(&s.to_string());
        }
        out.push('\n');
    }
    out
}

/// The `RECORD` paths that carry no hash of their own: `RECORD` and its signatures.
pub fn is_unhashed(path: &str) -> bool {
    path.ends_with(".dist-info/RECORD")
        || path.ends_with(".dist-info/RECORD.jws")
        || path.ends_with(".dist-info/RECORD.p7s")
}

/// Make `entries` true to `digests` (every file member's sha256 entry and size, as read): a wrong
/// or missing sha256 or size is replaced, a member without a line gets one, a line for no member
/// is dropped. Lines with another algorithm and a right size are kept. Returns the paths changed.
pub fn refresh(
    entries: &mut Vec<RecordEntry>,
    digests: &std::collections::BTreeMap<String, (String, u64)>,
) -> Vec<String> {
    let mut changed = Vec::new();
    let mut listed = std::collections::BTreeSet::new();
    entries.retain_mut(|e| {
        if is_unhashed(&e.path) {
            return true;
        }
        listed.insert(e.path.clone());
        let Some((hash, size)) = digests.get(&e.path) else {
            changed.push(e.path.clone());
            return false;
        };
        let wrong_hash = match e.hash.as_deref() {
            None => true,
            Some(h) if h.starts_with("sha256=") => decode_hash(h) != decode_hash(hash),
            Some(_) => false,
        };
        if wrong_hash || e.size != Some(*size) {
            e.hash = Some(hash.clone());
            e.size = Some(*size);
            changed.push(e.path.clone());
        }
        true
    });
    for (path, (hash, size)) in digests {
        if !listed.contains(path) && !is_unhashed(path) {
            entries.push(RecordEntry {
                path: path.clone(),
                hash: Some(hash.clone()),
                size: Some(*size),
            });
            changed.push(path.clone());
        }
    }
    changed
}

/// `sha256=<urlsafe base64 without padding>` of `data`.
pub fn sha256_entry(data: &[u8]) -> String {
    format_digest(&Sha256::digest(data))
}

/// Format a finished SHA-256 digest the way `RECORD` spells it.
pub fn format_digest(digest: &[u8]) -> String {
    format!("sha256={}", URL_SAFE_NO_PAD.encode(digest))
}

/// A streaming SHA-256 for `RECORD` hashes.
#[derive(Default)]
pub struct RecordHasher(Sha256);

impl RecordHasher {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    pub fn finish(self) -> String {
        format_digest(&self.0.finalize())
    }
}

/// Decode `algorithm=digest` into its algorithm and raw digest bytes.
pub fn decode_hash(hash: &str) -> Option<(&str, Vec<u8>)> {
    let (alg, digest) = hash.split_once('=')?;
    let digest = URL_SAFE_NO_PAD.decode(digest.trim_end_matches('=')).ok()?;
    Some((alg, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_fixes_wrong_missing_and_extra_lines() {
        let e = |path: &str, hash: Option<&str>, size: Option<u64>| RecordEntry {
            path: path.into(),
            hash: hash.map(str::to_string),
            size,
        };
        let mut entries = vec![
            e("a.py", Some("sha256=AAAA"), Some(1)),
            e("b.py", Some("sha256=Ym9i"), Some(3)),
            e("gone.py", Some("sha256=AAAA"), Some(1)),
            e("d-1.dist-info/RECORD", None, None),
        ];
        let digests = [
            ("a.py", "sha256=Ym9i", 3),
            ("b.py", "sha256=Ym9i", 3),
            ("new.py", "sha256=Ym9i", 3),
        ]
        .into_iter()
        .map(|(p, h, s)| (p.to_string(), (h.to_string(), s)))
        .collect();
        let changed = refresh(&mut entries, &digests);
        assert_eq!(changed, ["a.py", "gone.py", "new.py"]);
        assert_eq!(
            write(&entries),
            "a.py,sha256=Ym9i,3\nb.py,sha256=Ym9i,3\nd-1.dist-info/RECORD,,\nnew.py,sha256=Ym9i,3\n"
        );
    }

    #[test]
    fn round_trips_with_quoting() {
        let text =
            "a/b.py,sha256=abc,12\n\"we,ird\"\"name.py\",sha256=x,1\npkg-1.0.dist-info/RECORD,,\n";
        let entries = parse(text).unwrap();
        assert_eq!(entries[1].path, "we,ird\"name.py");
        assert_eq!(entries[2].hash, None);
        assert_eq!(write(&entries), text);
    }

    #[test]
    fn hashes_like_pip() {
        assert_eq!(
            sha256_entry(b""),
            "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse("a,b\n").unwrap_err().to_string(),
            "`RECORD` line 1: expected 3 fields, found 2"
        );
        assert!(parse("a,sha256=x,big\n").is_err());
        assert!(parse("\"a,sha256=x,1\n").is_err());
    }
}
