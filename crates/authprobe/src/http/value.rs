//! Header values that carry secrets. The wire gets the exact bytes; evidence and `curl`
//! lines get a form where each secret is a shell variable (`${AUTHPROBE_BEARER}`), so a
//! report can be shared and still reproduce the request once the reader exports the
//! variable.

/// One piece of a value: literal text, or a secret shown as a shell expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Lit(String),
    /// `expr` is a POSIX shell parameter expansion such as `${AUTHPROBE_BEARER%??????}`;
    /// `raw` is what it expands to.
    Secret {
        expr: String,
        raw: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    segs: Vec<Seg>,
    raw: Vec<u8>,
}

impl Value {
    pub fn lit(s: impl Into<String>) -> Self {
        Self::from_segs(vec![Seg::Lit(s.into())])
    }

    pub fn from_segs(segs: Vec<Seg>) -> Self {
        let mut raw = Vec::new();
        for s in &segs {
            match s {
                Seg::Lit(t) => raw.extend_from_slice(t.as_bytes()),
                Seg::Secret { raw: r, .. } => raw.extend_from_slice(r.as_bytes()),
            }
        }
        Self { segs, raw }
    }

    /// A literal followed by a secret, the usual `Bearer <token>` shape.
    pub fn prefixed_secret(prefix: &str, expr: &str, raw: &str) -> Self {
        Self::from_segs(vec![
            Seg::Lit(prefix.to_string()),
            Seg::Secret {
                expr: expr.to_string(),
                raw: raw.to_string(),
            },
        ])
    }

    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The secrets shown as a bare `${NAME}`, with what each variable holds: the values a
    /// secrets file must define for the evidence to run.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &str)> {
        self.segs.iter().filter_map(|s| match s {
            Seg::Secret { expr, raw } => {
                let name = expr.strip_prefix("${")?.strip_suffix('}')?;
                crate::secrets_file::is_var_name(name).then_some((name, raw.as_str()))
            }
            Seg::Lit(_) => None,
        })
    }

    pub fn has_secret(&self) -> bool {
        self.segs.iter().any(|s| matches!(s, Seg::Secret { .. }))
    }

    /// The value as shown in evidence: secrets as their shell expression unless `reveal`.
    pub fn display(&self, reveal: bool) -> String {
        self.segs
            .iter()
            .map(|s| match s {
                Seg::Lit(t) => t.clone(),
                Seg::Secret { raw, .. } if reveal => raw.clone(),
                Seg::Secret { expr, .. } => expr.clone(),
            })
            .collect()
    }

    /// The value inside a double-quoted shell word: literals escaped, secrets expanded by
    /// the shell (or inlined and escaped when `reveal`).
    pub fn shell_dq(&self, reveal: bool) -> String {
        self.segs
            .iter()
            .map(|s| match s {
                Seg::Lit(t) => dq_escape(t),
                Seg::Secret { raw, .. } if reveal => dq_escape(raw),
                Seg::Secret { expr, .. } => expr.clone(),
            })
            .collect()
    }
}

/// Escapes text for the inside of a double-quoted POSIX shell word.
pub fn dq_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_display_but_reach_the_wire() {
        let v = Value::prefixed_secret("Bearer ", "${AUTHPROBE_BEARER}", "eyJ.secret.sig");
        assert_eq!(v.raw(), b"Bearer eyJ.secret.sig");
        assert_eq!(v.display(false), "Bearer ${AUTHPROBE_BEARER}");
        assert_eq!(v.display(true), "Bearer eyJ.secret.sig");
        assert!(v.has_secret());
    }

    #[test]
    fn literals_are_escaped_for_double_quotes() {
        let v = Value::lit("a\"b$c`d\\e");
        assert_eq!(v.shell_dq(false), "a\\\"b\\$c\\`d\\\\e");
    }
}
