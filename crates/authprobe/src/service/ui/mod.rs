//! STUB: replaced by the ui branch.
use crate::store::{Diff, Millis, ScanRow, Target, TargetSummary};
pub struct Chrome<'a> {
    pub title: &'a str,
    pub user: Option<&'a str>,
    pub csrf: Option<&'a str>,
    pub flash: Option<&'a str>,
}
pub struct Progress {
    pub done: u32,
    pub total: u32,
    pub phase: String,
}
#[derive(Default)]
pub struct NewTargetForm {
    pub name: String,
    pub url: String,
    pub spec: String,
    pub checks: String,
    pub schedule_minutes: String,
}
pub const LIVE_JS: &str = "";
pub fn stylesheet() -> String {
    String::new()
}
fn f(c: &Chrome, body: String) -> String {
    let csrf = c
        .csrf
        .map(|t| format!("<input type=hidden name=csrf value=\"{t}\">"))
        .unwrap_or_default();
    format!(
        "<html><head><title>{}</title></head><body><form method=post action=/logout>{csrf}</form>{body}</body></html>",
        c.title
    )
}
pub fn login(c: &Chrome, error: Option<&str>, username: &str, setup_needed: bool) -> String {
    f(c, format!("login {error:?} {username} {setup_needed}"))
}
pub fn setup(c: &Chrome, error: Option<&str>, username: &str) -> String {
    f(c, format!("setup {error:?} {username}"))
}
pub fn targets(c: &Chrome, rows: &[TargetSummary], _now: Millis) -> String {
    f(c, format!("{} targets", rows.len()))
}
pub fn target(c: &Chrome, s: &TargetSummary, h: &[ScanRow], _now: Millis) -> String {
    f(c, format!("{} {}", s.target.name, h.len()))
}
pub fn scan(
    c: &Chrome,
    t: &Target,
    s: &ScanRow,
    r: Option<&crate::report::Report>,
    _p: Option<Progress>,
    _now: Millis,
) -> String {
    f(c, format!("{} {} {}", t.name, s.id, r.is_some()))
}
pub fn diff(c: &Chrome, t: &Target, d: &Diff, _now: Millis) -> String {
    f(c, format!("{} {}", t.name, d.new.len()))
}
pub fn new_target(c: &Chrome, form: &NewTargetForm, error: Option<&str>) -> String {
    f(c, format!("{} {error:?}", form.url))
}
pub fn error_page(c: &Chrome, status: u16, heading: &str, detail: &str) -> String {
    f(c, format!("{status} {heading} {detail}"))
}
