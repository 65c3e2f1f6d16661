//! Static checks over the API description given with `--spec`: what the document itself
//! declares (operations left without security, API keys in URLs, plain-HTTP servers),
//! each a pure `evaluate(&ApiSpec)`; no request is sent. The description is read once by
//! [`crate::spec`] and shared through the scan options.

pub mod apikey_in_query;
pub mod cleartext_server;
pub mod security_undeclared;

use crate::check::{CheckMeta, Outcome};
use crate::finding::Evidence;
use crate::scan::Scan;
use crate::spec::ApiSpec;

/// The family's checks, in catalog order.
pub fn checks() -> Vec<Box<dyn crate::check::Check>> {
    vec![
        Box::new(security_undeclared::SecurityUndeclared),
        Box::new(apikey_in_query::ApikeyInQuery),
        Box::new(cleartext_server::CleartextServer),
    ]
}

/// A static check's verdict over the description alone.
pub type Evaluate = fn(&ApiSpec) -> Outcome;

/// The checks of this family with their verdicts, in catalog order: what a caller holding
/// a description (and no scan) can run.
pub fn static_checks() -> Vec<(&'static CheckMeta, Evaluate)> {
    vec![
        (&security_undeclared::META, security_undeclared::evaluate),
        (&apikey_in_query::META, apikey_in_query::evaluate),
        (&cleartext_server::META, cleartext_server::evaluate),
    ]
}

/// Runs `eval` on the scan's description (the engine skips these checks without one).
fn on_spec(ctx: &Scan, eval: Evaluate) -> Outcome {
    match &ctx.opts().spec {
        Some(spec) => eval(spec),
        None => Outcome::NotApplicable("needs an API description (--spec)".into()),
    }
}

/// How many operations a description names before "and N more".
const NAMED: usize = 20;

/// "GET /a, POST /b and 3 more".
fn list(labels: &[String]) -> String {
    let shown = &labels[..labels.len().min(NAMED)];
    let mut s = shown.join(", ");
    if labels.len() > shown.len() {
        s.push_str(&format!(" and {} more", labels.len() - shown.len()));
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Evidence pointing into the description: where it came from and the JSON pointers of
/// what is reported (at most [`NAMED`]), the offending snippet, and a curl line fetching
/// the description again when it came from a URL. No HTTP answer backs it.
fn evidence(spec: &ApiSpec, pointers: &[String], excerpt: String) -> Evidence {
    let mut request = format!("{} ({})", spec.source, spec.version.as_str());
    for p in pointers.iter().take(NAMED) {
        request.push_str("\n  ");
        request.push_str(p);
    }
    if pointers.len() > NAMED {
        request.push_str(&format!("\n  and {} more", pointers.len() - NAMED));
    }
    Evidence {
        request,
        status: None,
        excerpt,
        curl: spec
            .source_url()
            .map(|u| format!("curl -sS {}", sq(u.as_str())))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
fn parse(doc: &str) -> ApiSpec {
    crate::spec::parse(doc.as_bytes(), "https://api.example.test/openapi.yaml").unwrap()
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_lists_are_cut_with_a_count() {
        let labels: Vec<String> = (0..23).map(|i| format!("GET /{i}")).collect();
        let s = super::list(&labels);
        assert!(s.starts_with("GET /0, GET /1"));
        assert!(s.ends_with("GET /19 and 3 more"), "{s}");
    }
}
