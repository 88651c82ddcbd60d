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

/// Render an error, its causes and the first hint found in the chain.
pub fn render_error(err: &anyhow::Error) -> String {
    let mut out = format!("error: {err}\n");
    let mut hint = None;
    let mut last = err.to_string();
    for cause in err.chain() {
        if let Some(h) = cause.downcast_ref::<Hinted>() {
            hint.get_or_insert_with(|| h.hint.clone());
        }
    }
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if text != last {
            out.push_str(&format!("  Caused by: {text}\n"));
        }
        last = text;
    }
    if let Some(h) = hint {
        out.push_str(&format!("  hint: {h}\n"));
    }
    out
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
}
