//! Word mangling: the default rule set and the rule-file syntax described in
//! the crate documentation.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::CrackError;

/// Which mangling rules to apply to every candidate line, from every source
/// (the built-in list included: a default secret with a year appended is a
/// common real-world variant).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Rules {
    /// Every line as is.
    #[default]
    None,
    /// [`DEFAULT_RULES`].
    Default,
    /// Rules read from a file in the syntax of the crate documentation.
    File(PathBuf),
}

/// The default rule set, in the rule-file syntax: six base forms (as is,
/// lower, upper, capitalised, and lower / capitalised with `a→@ e→3 i→1
/// o→0`), each bare and with the usual suffixes.
pub const DEFAULT_RULES: &str = "\
:
: $[0-99]
: $[00-09]
: $[1990-2030]
: $!
: $1$2$3
: $1$2$3$4
: $[0-99] $!
: $[1990-2030] $!
: $1$2$3 $!
l
l $[0-99]
l $[00-09]
l $[1990-2030]
l $!
l $1$2$3
l $1$2$3$4
l $[0-99] $!
l $[1990-2030] $!
l $1$2$3 $!
u
u $[0-99]
u $[00-09]
u $[1990-2030]
u $!
u $1$2$3
u $1$2$3$4
u $[0-99] $!
u $[1990-2030] $!
u $1$2$3 $!
c
c $[0-99]
c $[00-09]
c $[1990-2030]
c $!
c $1$2$3
c $1$2$3$4
c $[0-99] $!
c $[1990-2030] $!
c $1$2$3 $!
l sa@ se3 si1 so0
l sa@ se3 si1 so0 $[0-99]
l sa@ se3 si1 so0 $[00-09]
l sa@ se3 si1 so0 $[1990-2030]
l sa@ se3 si1 so0 $!
l sa@ se3 si1 so0 $1$2$3
l sa@ se3 si1 so0 $1$2$3$4
l sa@ se3 si1 so0 $[0-99] $!
l sa@ se3 si1 so0 $[1990-2030] $!
l sa@ se3 si1 so0 $1$2$3 $!
c sa@ se3 si1 so0
c sa@ se3 si1 so0 $[0-99]
c sa@ se3 si1 so0 $[00-09]
c sa@ se3 si1 so0 $[1990-2030]
c sa@ se3 si1 so0 $!
c sa@ se3 si1 so0 $1$2$3
c sa@ se3 si1 so0 $1$2$3$4
c sa@ se3 si1 so0 $[0-99] $!
c sa@ se3 si1 so0 $[1990-2030] $!
c sa@ se3 si1 so0 $1$2$3 $!
";

/// The largest rule file read: [`MAX_RULES`] rules of a dozen bytes each fit.
pub const MAX_RULE_FILE: u64 = 16 * 1024 * 1024;
/// A hostile rule file must not be able to ask for unbounded work per word.
const MAX_RULES: usize = 1_000_000;
const MAX_OPS: usize = 256;
/// Candidates grown past this by `d` or prepends are dropped.
const MAX_CANDIDATE: usize = 2 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Op {
    Lower,
    Upper,
    Capitalise,
    Toggle,
    Reverse,
    Duplicate,
    Substitute(u8, u8),
    Prepend(u8),
    Append(u8),
}

/// Rules sharing the same leading operations ("head") differ only in what is
/// appended, so the head runs once per word and the suffixes are stamped on.
#[derive(Debug)]
struct Group {
    head: Vec<Op>,
    tails: Vec<Vec<u8>>,
    /// Index of the first group with an identical tail list: when this
    /// group's head output equals that group's for a word, every candidate
    /// would be a repeat (`l` on an already lower-case word).
    same_tails_as: usize,
}

/// Parsed rules, shared read-only by the workers.
#[derive(Debug)]
pub(crate) struct RuleSet {
    groups: Vec<Group>,
}

enum Tok {
    Op(Op),
    Append(Vec<Vec<u8>>),
}

fn parse_range(s: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let text = std::str::from_utf8(s).map_err(|_| "range is not ASCII".to_string())?;
    let (a, b) = text
        .split_once('-')
        .ok_or_else(|| format!("range [{text}] needs A-B"))?;
    let num = |x: &str| -> Result<u64, String> {
        if x.is_empty() || x.len() > 9 || !x.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("bad number {x:?} in range"));
        }
        x.parse::<u64>().map_err(|e| e.to_string())
    };
    let (lo, hi) = (num(a)?, num(b)?);
    if lo > hi {
        return Err(format!("empty range [{text}]"));
    }
    if hi - lo >= MAX_RULES as u64 {
        return Err(format!("range [{text}] too large"));
    }
    let width = if a.len() > 1 && a.starts_with('0') {
        a.len()
    } else {
        0
    };
    Ok((lo..=hi)
        .map(|n| format!("{n:0width$}").into_bytes())
        .collect())
}

fn parse_line(line: &[u8]) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut i = 0;
    let operand = |i: usize, n: usize| -> Result<&[u8], String> {
        line.get(i + 1..i + 1 + n)
            .ok_or_else(|| format!("operation {:?} lacks its operand", line[i] as char))
    };
    while i < line.len() {
        let op = match line[i] {
            b' ' | b'\t' | b':' => {
                i += 1;
                continue;
            }
            b'l' => Op::Lower,
            b'u' => Op::Upper,
            b'c' => Op::Capitalise,
            b't' => Op::Toggle,
            b'r' => Op::Reverse,
            b'd' => Op::Duplicate,
            b's' => {
                let o = operand(i, 2)?;
                i += 3;
                toks.push(Tok::Op(Op::Substitute(o[0], o[1])));
                continue;
            }
            b'^' => {
                let o = operand(i, 1)?;
                i += 2;
                toks.push(Tok::Op(Op::Prepend(o[0])));
                continue;
            }
            b'$' => {
                let o = operand(i, 1)?;
                if o[0] == b'[' {
                    let end = line[i + 2..]
                        .iter()
                        .position(|&b| b == b']')
                        .ok_or("unterminated $[")?;
                    toks.push(Tok::Append(parse_range(&line[i + 2..i + 2 + end])?));
                    i += 3 + end;
                } else {
                    toks.push(Tok::Append(vec![vec![o[0]]]));
                    i += 2;
                }
                continue;
            }
            other => {
                return Err(format!("unknown operation {:?}", other as char));
            }
        };
        toks.push(Tok::Op(op));
        i += 1;
    }
    if toks.len() > MAX_OPS {
        return Err(format!("more than {MAX_OPS} operations"));
    }
    Ok(toks)
}

impl RuleSet {
    pub(crate) fn load(rules: &Rules) -> Result<Option<RuleSet>, CrackError> {
        match rules {
            Rules::None => Ok(None),
            Rules::Default => RuleSet::parse(DEFAULT_RULES.as_bytes()).map(Some),
            Rules::File(p) => {
                use std::io::Read;
                let io = |source| CrackError::Io {
                    path: p.display().to_string(),
                    source,
                };
                // Read one byte past the cap, so a rule file that is endless (a device,
                // a pipe) or huge fails at once instead of filling memory.
                let mut text = Vec::new();
                std::fs::File::open(p)
                    .map_err(io)?
                    .take(MAX_RULE_FILE + 1)
                    .read_to_end(&mut text)
                    .map_err(io)?;
                if text.len() as u64 > MAX_RULE_FILE {
                    return Err(CrackError::FileTooLarge {
                        path: p.display().to_string(),
                        limit: MAX_RULE_FILE,
                    });
                }
                RuleSet::parse(&text).map(Some)
            }
        }
    }

    pub(crate) fn parse(text: &[u8]) -> Result<RuleSet, CrackError> {
        let mut groups: Vec<Group> = Vec::new();
        let mut by_head: HashMap<Vec<Op>, usize> = HashMap::new();
        let mut seen_tails: Vec<std::collections::HashSet<Vec<u8>>> = Vec::new();
        let mut total = 0usize;
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() || trimmed[0] == b'#' {
                continue;
            }
            let err = |msg: String| CrackError::Rule { line: n + 1, msg };
            let toks = parse_line(trimmed).map_err(err)?;
            // The head ends at the last non-append operation; what follows
            // is a run of appends that becomes this rule's suffix list.
            let split = toks
                .iter()
                .rposition(|t| matches!(t, Tok::Op(_)))
                .map_or(0, |p| p + 1);
            let head: Vec<Op> = toks[..split]
                .iter()
                .map(|t| match t {
                    Tok::Op(o) => o.clone(),
                    Tok::Append(alts) => Op::Append(alts[0][0]),
                })
                .collect();
            if toks[..split]
                .iter()
                .any(|t| matches!(t, Tok::Append(a) if a.len() > 1))
            {
                return Err(err(
                    "a $[A-B] range must come after the last other operation".into(),
                ));
            }
            let mut tails: Vec<Vec<u8>> = vec![Vec::new()];
            for t in &toks[split..] {
                let Tok::Append(alts) = t else { unreachable!() };
                if tails.len().saturating_mul(alts.len()) + total > MAX_RULES {
                    return Err(err(format!("more than {MAX_RULES} rules")));
                }
                tails = tails
                    .iter()
                    .flat_map(|base| {
                        alts.iter().map(move |a| {
                            let mut v = base.clone();
                            v.extend_from_slice(a);
                            v
                        })
                    })
                    .collect();
            }
            total += tails.len();
            let g = *by_head.entry(head.clone()).or_insert_with(|| {
                groups.push(Group {
                    head,
                    tails: Vec::new(),
                    same_tails_as: 0,
                });
                seen_tails.push(Default::default());
                groups.len() - 1
            });
            for t in tails {
                if seen_tails[g].insert(t.clone()) {
                    groups[g].tails.push(t);
                }
            }
        }
        for i in 0..groups.len() {
            groups[i].same_tails_as = (0..i)
                .find(|&j| groups[j].tails == groups[i].tails)
                .unwrap_or(i);
        }
        Ok(RuleSet { groups })
    }

    /// Candidates per word before per-word deduplication.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.groups.iter().map(|g| g.tails.len()).sum()
    }

    /// Calls `emit` with every candidate derived from `word`, stopping early
    /// when it returns false. `scratch` holds head outputs between words so
    /// that nothing is allocated per word once it has grown.
    pub(crate) fn apply(
        &self,
        word: &[u8],
        scratch: &mut Scratch,
        emit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> bool {
        scratch.heads.clear();
        scratch.spans.clear();
        for g in &self.groups {
            let start = scratch.heads.len();
            if !run_head(&g.head, word, &mut scratch.heads, start) {
                scratch.heads.truncate(start);
                scratch.spans.push((start, start, false));
                continue;
            }
            let end = scratch.heads.len();
            let out = &scratch.heads[start..end];
            let repeat = scratch.spans.iter().enumerate().any(|(j, &(s, e, ok))| {
                ok && self.groups[j].same_tails_as == g.same_tails_as && scratch.heads[s..e] == *out
            });
            scratch.spans.push((start, end, true));
            if repeat {
                continue;
            }
            for t in &g.tails {
                if !emit(&scratch.heads[start..end], t) {
                    return false;
                }
            }
        }
        true
    }
}

/// Per-worker buffers for [`RuleSet::apply`].
#[derive(Default)]
pub(crate) struct Scratch {
    heads: Vec<u8>,
    spans: Vec<(usize, usize, bool)>,
}

/// Runs the head operations on `word` into `out[start..]`; false when the
/// result grew past the size limit.
fn run_head(ops: &[Op], word: &[u8], out: &mut Vec<u8>, start: usize) -> bool {
    out.extend_from_slice(word);
    for op in ops {
        let cur = &mut out[start..];
        match *op {
            Op::Lower => cur.make_ascii_lowercase(),
            Op::Upper => cur.make_ascii_uppercase(),
            Op::Capitalise => {
                cur.make_ascii_lowercase();
                if let Some(f) = cur.first_mut() {
                    f.make_ascii_uppercase();
                }
            }
            Op::Toggle => {
                for b in cur.iter_mut() {
                    if b.is_ascii_alphabetic() {
                        *b ^= 0x20;
                    }
                }
            }
            Op::Reverse => cur.reverse(),
            Op::Substitute(x, y) => {
                for b in cur.iter_mut() {
                    if *b == x {
                        *b = y;
                    }
                }
            }
            Op::Duplicate => {
                if cur.len() * 2 > MAX_CANDIDATE {
                    return false;
                }
                out.extend_from_within(start..);
            }
            Op::Prepend(x) => {
                if cur.len() >= MAX_CANDIDATE {
                    return false;
                }
                out.insert(start, x);
            }
            Op::Append(x) => {
                if cur.len() >= MAX_CANDIDATE {
                    return false;
                }
                out.push(x);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(rules: &RuleSet, word: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut s = Scratch::default();
        rules.apply(word, &mut s, &mut |h, t| {
            let mut v = h.to_vec();
            v.extend_from_slice(t);
            out.push(String::from_utf8_lossy(&v).into_owned());
            true
        });
        out
    }

    #[test]
    fn default_rules_cover_the_documented_forms() {
        let r = RuleSet::load(&Rules::Default).unwrap().unwrap();
        let c = all(&r, b"password");
        for want in [
            "password",
            "Password2024!",
            "PASSWORD",
            "password07",
            "password7",
            "Password123!",
            "p@ssw0rd",
            "P@ssw0rd1990",
            "password1234",
            "password!",
        ] {
            assert!(c.iter().any(|x| x == want), "missing {want}");
        }
        let unique: std::collections::HashSet<_> = c.iter().collect();
        assert_eq!(unique.len(), c.len(), "duplicates emitted");
        assert!(r.len() > 1500 && r.len() < 2000, "{}", r.len());
    }

    #[test]
    fn rule_file_syntax() {
        let r = RuleSet::parse(b"# comment\n\nr\n^x $y\nsab d\nt $[8-10]\r\nu $[00-02] $[5-6]\n")
            .unwrap();
        let c = all(&r, b"abC");
        assert_eq!(
            c,
            [
                "Cba", "xabCy", "bbCbbC", "ABc8", "ABc9", "ABc10", "ABC005", "ABC006", "ABC015",
                "ABC016", "ABC025", "ABC026"
            ]
        );
    }

    #[test]
    fn bad_rule_files_are_errors() {
        for bad in [
            &b"q"[..],
            b"s",
            b"sa",
            b"$",
            b"$[1-",
            b"$[5-1]",
            b"$[a-b]",
            b"$[0-9999999]",
            b"$[1-2] u",
            b"$[0-999]$[0-999]$[0-999]",
        ] {
            assert!(
                RuleSet::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn duplication_is_bounded_and_binary_is_fine() {
        let r = RuleSet::parse(&b"d".repeat(200)).unwrap();
        assert!(all(&r, b"xy").is_empty());
        let r = RuleSet::load(&Rules::Default).unwrap().unwrap();
        let c = all(&r, &[0xff, 0x00, 0xc3, b'\r']);
        assert!(!c.is_empty());
    }
}
