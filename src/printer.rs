//! Error rendering and user-facing messages on stderr (stdout carries results only).
//!
//! ```text
//! error: `foo-1.0-cp311-cp311-linux_armv7l.whl` contains an x86_64 binary
//!   Caused by: foo/_speedups.cpython-311-x86_64-linux-gnu.so is EM_X86_64, expected EM_ARM
//!   hint: the build used the build machine's compiler; run with -v to see the compiler calls
//! ```

use std::fmt;

/// An error with a suggestion attached; rendered as `hint: ...` after the error and its causes.
#[derive(Debug)]
pub struct Hinted {
    pub error: anyhow::Error,
    pub hint: String,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Hinted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Attach a hint to an error.
pub fn with_hint(error: impl Into<anyhow::Error>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        error: error.into(),
        hint: hint.into(),
    })
}

/// `anyhow::Result` extension: `.hint("...")`.
pub trait ResultExt<T> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T>;
    fn with_hint<F: FnOnce() -> String>(self, hint: F) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| with_hint(e, hint))
    }
    fn with_hint<F: FnOnce() -> String>(self, hint: F) -> anyhow::Result<T> {
        self.map_err(|e| with_hint(e, hint()))
    }
}

/// How serious a [`Diagnostic`] is: its first word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// One message for stderr, in pyx's one format:
///
/// ```text
/// error: <headline>
///   Caused by: <cause>          (one line per cause)
///   <label>: <value>            (fields, labels padded to one width)
///   | <quoted line>             (e.g. the end of a build log)
///   hint: <what to do>
/// ```
#[derive(Debug, Clone)]
pub struct Diagnostic {
    level: Level,
    headline: String,
    causes: Vec<String>,
    fields: Vec<(String, String)>,
    quoted: Vec<String>,
    hint: Option<String>,
}

impl Diagnostic {
    pub fn new(level: Level, headline: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level,
            headline: headline.into(),
            causes: Vec::new(),
            fields: Vec::new(),
            quoted: Vec::new(),
            hint: None,
        }
    }

    pub fn error(headline: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Level::Error, headline)
    }

    pub fn note(headline: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Level::Note, headline)
    }

    /// An error and its causes, with the first hint found in the chain.
    pub fn from_error(err: &anyhow::Error) -> Diagnostic {
        let mut d = Diagnostic::error(err.to_string());
        let mut last = err.to_string();
        for cause in err.chain() {
            if let Some(h) = cause.downcast_ref::<Hinted>() {
                d.hint.get_or_insert_with(|| h.hint.clone());
            }
        }
        for cause in err.chain().skip(1) {
            let text = cause.to_string();
            if text != last {
                d.causes.push(text.clone());
            }
            last = text;
        }
        d
    }

    pub fn cause(mut self, text: impl Into<String>) -> Diagnostic {
        self.causes.push(text.into());
        self
    }

    pub fn field(mut self, label: &str, value: impl Into<String>) -> Diagnostic {
        self.fields.push((label.to_string(), value.into()));
        self
    }

    pub fn quote(mut self, lines: impl IntoIterator<Item = impl Into<String>>) -> Diagnostic {
        self.quoted.extend(lines.into_iter().map(Into::into));
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn render(&self) -> String {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        };
        let mut out = format!("{level}: {}\n", self.headline);
        for c in &self.causes {
            out.push_str(&format!("  Caused by: {c}\n"));
        }
        let width = self
            .fields
            .iter()
            .map(|(l, _)| l.len() + 1)
            .max()
            .unwrap_or(0);
        for (label, value) in &self.fields {
            out.push_str(&format!("  {:<width$} {value}\n", format!("{label}:")));
        }
        for line in &self.quoted {
            out.push_str(&format!("  | {line}\n"));
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("  hint: {h}\n"));
        }
        out
    }
}

/// Render an error, its causes and the first hint found in the chain.
pub fn render_error(err: &anyhow::Error) -> String {
    Diagnostic::from_error(err).render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn renders_causes_and_hint() {
        let err: anyhow::Result<()> = Err(anyhow::anyhow!("`a.so` is EM_X86_64, expected EM_ARM"));
        let err = err
            .hint("the build used the build machine's compiler")
            .context("`foo.whl` contains an x86_64 binary")
            .unwrap_err();
        assert_eq!(
            render_error(&err),
            "error: `foo.whl` contains an x86_64 binary\n  \
             Caused by: `a.so` is EM_X86_64, expected EM_ARM\n  \
             hint: the build used the build machine's compiler\n"
        );
    }

    #[test]
    fn fields_align_and_quotes_follow() {
        let d = Diagnostic::error("`w.whl`: `a.so` is x86_64 code")
            .field("expected", "EM_ARM")
            .field("found", "EM_X86_64")
            .quote(["last line"])
            .hint("rebuild it");
        assert_eq!(
            d.render(),
            "error: `w.whl`: `a.so` is x86_64 code\n  expected: EM_ARM\n  found:    EM_X86_64\n  \
             | last line\n  hint: rebuild it\n"
        );
        assert_eq!(
            Diagnostic::note("n").field("found", "v").render(),
            "note: n\n  found: v\n"
        );
    }
}
