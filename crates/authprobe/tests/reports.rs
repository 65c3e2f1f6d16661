//! Every report format, rendered from reports of the vulnerable and the hardened lab (and
//! from hand-built reports for the edge cases a lab does not produce).

mod common;
mod formats;

use formats::{assert_valid_sarif, assert_well_formed_xml, attr, schema_errors};

use authprobe::checks;
use authprobe::report::{Report, html, junit, markdown, sarif};
use authprobe_lab::Profile;
use serde_json::Value;
use std::sync::OnceLock;

struct Labs {
    vulnerable: Report,
    hardened: Report,
}

async fn scan_lab(profile: Profile) -> Report {
    let lab = common::lab(profile, &[]).await;
    common::scan(common::options(&lab, common::quick_limits())).await
}

/// One scan of each lab, shared by every test: the reports are plain data once made.
fn labs() -> &'static Labs {
    static LABS: OnceLock<Labs> = OnceLock::new();
    LABS.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            Labs {
                vulnerable: scan_lab(Profile::Vulnerable).await,
                hardened: scan_lab(Profile::Hardened).await,
            }
        })
    })
}

fn sarif_of(r: &Report) -> Value {
    serde_json::from_str(&sarif::render(r)).expect("SARIF is JSON")
}

#[test]
fn sarif_validates_against_the_schema_for_both_labs() {
    for r in [&labs().vulnerable, &labs().hardened] {
        assert_valid_sarif(&sarif_of(r));
    }
    // The validator does bite: a wrong level and a result without a message are refused.
    let mut broken = sarif_of(&labs().vulnerable);
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    broken["runs"][0]["results"][1]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert_eq!(
        schema_errors(&broken).len(),
        2,
        "{:?}",
        schema_errors(&broken)
    );
}

#[test]
fn sarif_has_a_rule_per_check_and_a_result_per_finding() {
    let r = &labs().vulnerable;
    assert!(!r.findings.is_empty());
    let doc = sarif_of(r);
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let registry = checks::registry();
    assert_eq!(rules.len(), registry.len());
    for (rule, check) in rules.iter().zip(&registry) {
        let m = check.meta();
        assert_eq!(rule["id"], m.id);
        assert_eq!(rule["shortDescription"]["text"], m.title);
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(
            rule["help"]["text"]
                .as_str()
                .unwrap()
                .contains(m.remediation.summary)
        );
        let tags: Vec<&str> = rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        for c in m.cwe {
            assert!(tags.contains(&format!("CWE-{c}").as_str()), "{tags:?}");
        }
        for o in m.owasp {
            assert!(tags.iter().any(|t| t.contains(o)), "{tags:?}");
        }
        let want = match m.severity.as_str() {
            "critical" => "9.5",
            "high" => "8.0",
            "medium" => "5.5",
            "low" => "3.0",
            _ => "0.0",
        };
        assert_eq!(rule["properties"]["security-severity"], want, "{}", m.id);
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len());
    let base = run["originalUriBaseIds"][sarif::URI_BASE_ID]["uri"]
        .as_str()
        .unwrap();
    assert!(
        r.target.starts_with(base),
        "{base} is the origin of {}",
        r.target
    );
    for (res, f) in results.iter().zip(&r.findings) {
        assert_eq!(res["ruleId"], f.id.as_str());
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], f.id.as_str());
        let want = match f.severity.as_str() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(res["level"], want);
        assert!(res["message"]["text"].as_str().unwrap().contains(&f.title));
        let loc = &res["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uriBaseId"], sarif::URI_BASE_ID);
        assert_eq!(
            format!("{base}{}", loc["uri"].as_str().unwrap()),
            r.target.split('?').next().unwrap()
        );
        assert_eq!(
            res["properties"]["evidence"]["curl"],
            f.evidence.curl.as_str()
        );
    }
    // The hardened lab: the same rules, no results.
    let hard = sarif_of(&labs().hardened);
    assert_eq!(
        hard["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        registry.len()
    );
    assert!(hard["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn sarif_fingerprints_ignore_evidence_and_time() {
    let r = &labs().vulnerable;
    let fps = |r: &Report| -> Vec<String> {
        sarif_of(r)["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x["partialFingerprints"]["authprobe/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let first = fps(r);
    let mut unique = first.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), first.len(), "one fingerprint per check");

    // A second run: other timings, other dynamic evidence, a query string; same findings.
    let mut again = r.clone();
    again.started_at = "2030-01-01T00:00:00Z".into();
    again.duration_ms += 1234;
    for f in &mut again.findings {
        f.evidence.excerpt.push_str(" nonce=8f1c2e");
        f.evidence.request.push_str("\nX-Request-Id: 42");
    }
    again.target = format!("{}?cache=bust", r.target);
    assert_eq!(fps(&again), first);

    // Another resource is another finding.
    let mut other = r.clone();
    other.target = format!("{}/other", r.target.trim_end_matches('/'));
    assert!(fps(&other).iter().zip(&first).all(|(a, b)| a != b));
}

const XSS: &str = "<script>alert(1)</script>";

/// A report as a hostile target could shape it: every string the target influences
/// carries markup, quotes, backticks, pipes and control characters.
fn hostile_report() -> Report {
    use authprobe::finding::{Confidence, Evidence, Finding, RemediationText, Severity};
    use authprobe::report::{GradeCap, Skipped, Tool};
    let nasty = format!(
        "{XSS} \"q\" 'a' `tick` ```fence``` a|b & \u{1}\u{7}\u{1b}[31m <img src=x onerror=alert(2)>"
    );
    let finding = Finding {
        id: "auth.missing".into(),
        title: "the protected resource answers without credentials".into(),
        severity: Severity::Critical,
        confidence: Confidence::Confirmed,
        cwe: vec!["CWE-306".into()],
        owasp: vec!["API2:2023 Broken Authentication".into()],
        description: format!("the server said {nasty}"),
        evidence: Evidence {
            request: format!("GET /api/{XSS} HTTP/1.1\nHost: x\nX-Echo: {nasty}"),
            status: Some(200),
            excerpt: format!("<html><body>{nasty}</body></html>"),
            curl: format!("curl -sk 'https://127.0.0.1/{XSS}' -H 'X: {nasty}'"),
        },
        remediation: RemediationText {
            summary: format!("fix {nasty}"),
            frameworks: [("nginx".to_string(), format!("auth_request {nasty};"))].into(),
        },
        operations: vec![format!("GET /api/{XSS}")],
    };
    Report {
        schema_version: 1,
        tool: Tool {
            name: "authprobe".into(),
            version: "0.1.0".into(),
        },
        target: format!("https://127.0.0.1:8443/api/me?q={XSS}"),
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 1200,
        requests_sent: 10,
        score: 60,
        grade: "F".into(),
        grade_caps: vec![GradeCap {
            grade: "F".into(),
            reason: format!("critical finding {XSS}"),
        }],
        categories: [("auth".to_string(), 60)].into(),
        findings: vec![finding],
        checks_run: vec![
            "auth.missing".into(),
            "jwt.alg_none".into(),
            "tls.hsts_missing".into(),
        ],
        checks_skipped: vec![Skipped {
            id: "basic.no_lockout".into(),
            reason: format!("no --basic {nasty}"),
        }],
        inconclusive: vec![Skipped {
            id: "jwt.alg_none".into(),
            reason: format!("baselines do not separate {nasty}"),
        }],
        tls: None,
        client_auth: None,
        baseline: None,
        warnings: Vec::new(),
        check_durations_ms: Default::default(),
        variables: Default::default(),
        api: None,
        operations: Vec::new(),
    }
}

#[test]
fn sarif_of_a_hostile_report_is_valid_json_and_schema() {
    let doc = sarif_of(&hostile_report());
    assert_valid_sarif(&doc);
    assert!(
        doc["runs"][0]["results"][0]["properties"]["evidence"]["excerpt"]
            .as_str()
            .unwrap()
            .contains(XSS)
    );
}

#[test]
fn junit_has_a_suite_per_family_and_a_case_per_check() {
    for r in [&labs().vulnerable, &labs().hardened] {
        let x = junit::render(r);
        assert_well_formed_xml(&x);
        let cases = x.matches("<testcase ").count();
        let mut ids: Vec<&str> = r.checks_run.iter().map(String::as_str).collect();
        ids.extend(r.checks_skipped.iter().map(|s| s.id.as_str()));
        ids.sort();
        ids.dedup();
        assert_eq!(cases, ids.len(), "one testcase per check run or skipped");
        let mut found: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
        found.dedup();
        assert_eq!(x.matches("<failure ").count(), r.findings.len());
        let root = &x[x.find("<testsuites ").unwrap()..];
        let root = &root[..root.find('>').unwrap()];
        let failed_cases: usize = {
            let mut f = found.clone();
            f.sort();
            f.dedup();
            f.len()
        };
        assert_eq!(attr(root, "failures"), failed_cases.to_string());
        let undecided = r
            .inconclusive
            .iter()
            .filter(|i| !found.contains(&i.id.as_str()))
            .count();
        assert_eq!(
            attr(root, "skipped"),
            (r.checks_skipped.len() + undecided).to_string()
        );
        assert_eq!(
            x.matches("<skipped ").count(),
            r.checks_skipped.len() + undecided,
            "skipped and inconclusive checks are <skipped>"
        );
        // Inconclusive checks are skipped, neither failures nor passes.
        for i in &r.inconclusive {
            if !found.contains(&i.id.as_str()) {
                let at = x.find(&format!("name=\"{}", i.id)).unwrap();
                let case = &x[at..at + x[at..].find("</testcase>").unwrap()];
                assert!(case.contains("<skipped message=\"inconclusive: "), "{case}");
                assert!(!case.contains("<failure"));
            }
        }
        let families: std::collections::BTreeSet<&str> =
            ids.iter().map(|id| id.split('.').next().unwrap()).collect();
        assert_eq!(x.matches("<testsuite ").count(), families.len());
        for f in &r.findings {
            assert!(x.contains(&format!("name=\"{}: ", f.id)));
        }
    }
    assert_eq!(
        junit::render(&labs().hardened).matches("<failure ").count(),
        0
    );
}

#[test]
fn junit_escapes_and_strips_what_xml_cannot_carry() {
    let x = junit::render(&hostile_report());
    assert_well_formed_xml(&x);
    assert!(!x.contains("<script"));
    assert!(x.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!x.contains('\u{1b}') && !x.contains('\u{1}'));
    assert!(x.contains("<skipped message=\"no --basic &lt;script&gt;"));
}

#[test]
fn markdown_summarises_for_a_pr_comment() {
    let r = &labs().vulnerable;
    let m = markdown::render(r);
    assert!(m.contains(&format!("Score {}/100 · Grade {}", r.score, r.grade)));
    for cap in &r.grade_caps {
        assert!(m.contains(&format!("Grade capped at **{}**", cap.grade)));
    }
    let rows = m.lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(rows, r.findings.len() + 1, "header plus a row per finding");
    assert_eq!(m.matches("<details>").count(), r.findings.len());
    assert_eq!(m.matches("</details>").count(), r.findings.len());
    for f in &r.findings {
        assert!(m.contains(&format!("`{}`", f.id)));
    }
    assert!(m.contains(&format!(
        "{} skipped (not applicable) · {} inconclusive",
        r.checks_skipped.len(),
        r.inconclusive.len()
    )));
    let h = markdown::render(&labs().hardened);
    assert!(h.contains("No findings."));
    assert!(!h.contains("<details>"));
}

#[test]
fn markdown_cannot_be_broken_by_the_target() {
    let m = markdown::render(&hostile_report());
    // Inside a fenced block text is literal; outside, no markup of the target's survives.
    let mut prose = String::new();
    let mut fence: Option<String> = None;
    for line in m.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(f) if line == f.as_str() => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    assert!(fence.is_none(), "every fence closes");
    assert!(!prose.contains("<script"), "{prose}");
    assert!(!prose.contains("<img"));
    assert!(prose.contains("&lt;script&gt;"));
    // The table row stays one row with its 4 cells: pipes in values are escaped.
    let row = m.lines().find(|l| l.starts_with("| 🟥")).unwrap();
    assert_eq!(row.matches(" | ").count(), 3, "{row}");
    // Fences are longer than any backtick run inside, so evidence cannot close them.
    assert!(m.contains("````http\n"));
    assert!(!m.contains('\u{1b}'));
}

#[test]
fn html_is_self_contained_and_shows_every_finding() {
    for r in [&labs().vulnerable, &labs().hardened] {
        let h = html::render(r);
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.trim_end().ends_with("</html>"));
        assert!(!h.contains("<script"), "the page runs no script");
        for external in ["src=\"http", "href=\"http", "url(", "@import", "<link"] {
            assert!(!h.contains(external), "no external asset: {external}");
        }
        assert!(h.contains("<svg class=\"gauge\""));
        assert!(h.contains("<svg class=\"bars\""));
        assert!(h.contains(&format!(
            "<text x=\"110\" y=\"98\" text-anchor=\"middle\" class=\"g-score\">{}</text>",
            r.score
        )));
        assert_eq!(
            h.matches("<article class=\"finding\"").count(),
            r.findings.len()
        );
        for f in &r.findings {
            assert!(h.contains(&html::esc(&f.evidence.curl)));
            assert!(h.contains(&html::esc(&f.remediation.summary)));
            for fw in f.remediation.frameworks.keys() {
                assert!(h.contains(&format!("<dt>{}</dt>", html::esc(fw))));
            }
        }
        if let Some(t) = &r.tls {
            assert!(h.contains("<h2>TLS</h2>"));
            for p in t.protocols.iter().filter(|p| p.accepted) {
                assert!(h.contains(&html::esc(&p.version)));
                for s in &p.suites {
                    assert!(h.contains(&html::esc(&s.name)));
                }
            }
            for c in &t.certificate_chain {
                assert!(h.contains(&html::esc(&c.subject)));
            }
        }
    }
    assert!(html::render(&labs().hardened).contains("No findings"));
}

#[test]
fn html_escapes_everything_the_target_said() {
    let mut r = hostile_report();
    // Score 0 draws the gauge's dot instead of an arc: every shape must pass the checks.
    r.score = 0;
    let h = html::render(&r);
    assert!(
        !h.to_ascii_lowercase().contains("<script"),
        "no unescaped <script (the page has none of its own)"
    );
    assert!(!h.contains("<img"));
    assert!(!h.contains("onerror=alert(2)>"));
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(h.contains("&quot;q&quot; &#39;a&#39;"));
    assert!(!h.contains('\u{1b}') && !h.contains('\u{7}'));
    // The excerpt, request, curl, description, remediation, cap and skip reasons all
    // carried the payload; each shows up escaped.
    assert!(h.matches("&lt;script&gt;alert(1)&lt;/script&gt;").count() >= 9);
    // The only tags are the page's own.
    let allowed = [
        "html", "head", "meta", "title", "style", "body", "div", "span", "main", "svg", "path",
        "circle", "text", "rect", "ul", "li", "b", "section", "h2", "h3", "table", "thead",
        "tbody", "tr", "th", "td", "a", "code", "article", "header", "p", "pre", "details",
        "summary", "dl", "dt", "dd", "footer", "!DOCTYPE",
    ];
    let mut rest = h.as_str();
    while let Some(i) = rest.find('<') {
        let tag = rest[i + 1..]
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .find(|s| !s.is_empty())
            .unwrap_or("");
        assert!(allowed.contains(&tag), "unexpected tag <{tag}");
        rest = &rest[i + 1..];
    }
}

#[test]
fn sarif_locates_root_urls_and_bare_tls_endpoints() {
    for (target, base, uri) in [
        (
            "https://api.example.test/",
            "https://api.example.test/",
            ".",
        ),
        ("10.0.0.5:8443", "https://10.0.0.5:8443/", "."),
        (
            "https://api.example.test:8443/v1/me?x=1",
            "https://api.example.test:8443/",
            "v1/me",
        ),
    ] {
        let mut r = hostile_report();
        r.target = target.into();
        let doc = sarif_of(&r);
        assert_valid_sarif(&doc);
        let run = &doc["runs"][0];
        assert_eq!(run["originalUriBaseIds"][sarif::URI_BASE_ID]["uri"], base);
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            uri
        );
    }
}

#[test]
fn junit_skips_inconclusive_checks_and_times_each_case() {
    let mut r = hostile_report();
    r.check_durations_ms = [
        ("auth.missing".to_string(), 1250),
        ("tls.hsts_missing".to_string(), 40),
    ]
    .into();
    let x = junit::render(&r);
    assert_well_formed_xml(&x);
    let case = |id: &str| {
        let at = x.find(&format!("name=\"{id}")).unwrap();
        let open = x[..at].rfind("<testcase ").unwrap();
        let end = x[open..]
            .find("</testcase>")
            .map_or(x[open..].find("/>").unwrap() + 2, |e| e + 11);
        x[open..open + end].to_string()
    };
    let undecided = case("jwt.alg_none");
    assert!(
        undecided.contains("<skipped message=\"inconclusive: baselines do not separate"),
        "{undecided}"
    );
    assert!(!undecided.contains("<failure") && !undecided.contains("<system-out"));
    assert!(case("auth.missing").contains("time=\"1.250\""));
    assert!(case("tls.hsts_missing").contains("time=\"0.040\""));
    // A passing check is a bare testcase: nothing but a pass.
    assert!(case("tls.hsts_missing").ends_with("/>"));
    let root = &x[x.find("<testsuites ").unwrap()..];
    let root = &root[..root.find('>').unwrap()];
    assert_eq!(
        attr(root, "skipped"),
        "2",
        "one not applicable, one inconclusive"
    );
    assert_eq!(attr(root, "time"), "1.200");
    // A real scan times the checks it ran.
    let lab = junit::render(&labs().vulnerable);
    assert!(!labs().vulnerable.check_durations_ms.is_empty());
    assert!(lab.contains("<testcase ") && !lab.contains("time=\"0\""));
}

#[test]
fn old_json_reports_without_check_times_still_load() {
    let mut v: Value = serde_json::from_str(&labs().vulnerable.to_json()).unwrap();
    v.as_object_mut().unwrap().remove("check_durations_ms");
    let r: Report = serde_json::from_value(v).expect("an older report loads");
    assert!(r.check_durations_ms.is_empty());
    assert!(junit::render(&r).contains("time=\"0.000\""));
}

#[test]
fn markdown_stays_under_githubs_comment_limit_and_says_what_was_cut() {
    let mut r = hostile_report();
    let base = r.findings[0].clone();
    r.findings = (0..120)
        .map(|i| {
            let mut f = base.clone();
            f.id = format!("auth.missing_{i:03}");
            f.evidence.excerpt = format!("{i} {}", "x".repeat(4_000));
            f
        })
        .collect();
    const { assert!(markdown::MAX_LEN < markdown::GITHUB_COMMENT_LIMIT) };
    let m = markdown::render(&r);
    let units = m.encode_utf16().count();
    assert!(units <= markdown::MAX_LEN, "{units} UTF-16 units");
    // Every finding keeps its table row; evidence goes, most severe first kept.
    let rows = m.lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(rows, 121);
    let shown = m.matches("<details>").count();
    assert!(shown > 0 && shown < 120, "{shown} findings with evidence");
    assert_eq!(shown, m.matches("</details>").count());
    let note = m
        .lines()
        .find(|l| l.contains("Cut to fit GitHub's 65536-character comment limit"))
        .expect("the cut is said");
    assert!(
        note.contains(&format!("the evidence of {} findings", 120 - shown)),
        "{note}"
    );
    assert!(
        note.contains(&format!("`auth.missing_{shown:03}`")),
        "{note}"
    );
    assert!(
        m.trim_end()
            .ends_with(&format!("authprobe {}", r.tool.version))
    );

    // So many findings that even the table does not fit: rows are cut and counted too.
    let mut huge = r.clone();
    huge.findings = (0..3_000)
        .map(|i| {
            let mut f = base.clone();
            f.id = format!("auth.missing_{i:04}");
            f
        })
        .collect();
    let m = markdown::render(&huge);
    assert!(m.encode_utf16().count() <= markdown::MAX_LEN);
    assert!(
        m.contains("findings left out of the table"),
        "{}",
        &m[m.len() - 600..]
    );
    assert!(!m.contains("<details>"));

    // A report that fits is not touched.
    assert!(!markdown::render(&labs().vulnerable).contains("Cut to fit"));
}

#[test]
fn markdown_grade_caps_are_separate_lines() {
    let mut r = hostile_report();
    r.grade_caps.push(authprobe::report::GradeCap {
        grade: "D".into(),
        reason: "a high finding".into(),
    });
    let m = markdown::render(&r);
    let caps: Vec<&str> = m
        .lines()
        .filter(|l| l.contains("Grade capped at"))
        .collect();
    assert_eq!(caps.len(), 2);
    // List items inside the quote: consecutive plain quoted lines would join into one
    // paragraph when GitHub renders them.
    assert!(caps.iter().all(|l| l.starts_with("> - ")), "{caps:?}");
}

#[test]
fn html_folds_evidence_lists_passed_checks_and_reads_dates() {
    let r = &labs().vulnerable;
    let h = html::render(r);
    assert_eq!(
        h.matches("<details class=\"ev-box\">").count(),
        r.findings.len(),
        "each finding's evidence is folded"
    );
    assert!(!h.contains("<details class=\"ev-box\" open"));
    let passed: Vec<&String> = r
        .checks_run
        .iter()
        .filter(|id| {
            !r.findings.iter().any(|f| &f.id == *id) && !r.inconclusive.iter().any(|i| &i.id == *id)
        })
        .collect();
    assert!(!passed.is_empty());
    let section = &h[h.find("<h2>Passed</h2>").expect("a passed section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains(&format!("{} checks ran and found no flaw", passed.len())));
    for id in &passed {
        assert!(section.contains(&format!("<code>{id}</code>")), "{id}");
    }
    for f in &r.findings {
        assert!(!section.contains(&format!("<code>{}</code>", f.id)));
    }
    // The scan's start in words, the exact instant in the tooltip.
    assert!(h.contains(&format!("<span title=\"{}\">", r.started_at)));
    assert!(!h.contains(&format!("{} ·", r.started_at)));
    assert!(h.contains("@media (max-width:640px)"));

    let mut hostile = hostile_report();
    hostile.started_at = "2026-03-07T09:05:59Z".into();
    assert!(html::render(&hostile).contains(">7 Mar 2026, 09:05 UTC</span>"));
}

#[test]
fn html_family_chart_puts_the_worst_family_first_with_the_longest_bar() {
    let mut r = hostile_report();
    r.categories = [
        ("auth".to_string(), 20),
        ("jwt".to_string(), 100),
        ("tls".to_string(), 70),
    ]
    .into();
    let h = html::render(&r);
    let chart = &h[h.find("Points lost by family").unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    let order: Vec<usize> = ["auth", "tls", "jwt"]
        .iter()
        .map(|f| chart.find(&format!(">{f}</text>")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "worst first");
    // Bars are 220 wide at 100 points lost: auth lost 80, tls 30, jwt none.
    let widths: Vec<&str> = chart
        .match_indices("width=\"")
        .map(|(i, _)| {
            let rest = &chart[i + 7..];
            &rest[..rest.find('"').unwrap()]
        })
        .filter(|w| *w != "220" && *w != "100%")
        .collect();
    assert_eq!(widths, ["176.0", "66.0", "0.0"]);
}

fn rules_by_id(doc: &Value) -> std::collections::BTreeMap<String, Value> {
    doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[test]
fn sarif_lands_in_github_code_scanning() {
    let r = &labs().vulnerable;
    let doc = sarif_of(r);
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    let repo = env!("CARGO_PKG_REPOSITORY");
    assert_eq!(driver["informationUri"], repo);
    for (id, rule) in rules_by_id(&doc) {
        assert!(rule.get("name").is_none_or(|n| n != id.as_str()), "{id}");
        assert_eq!(rule["helpUri"], format!("{repo}#checks"), "{id}");
    }
    // One category per scanned resource, so targets do not close each other's alerts.
    assert_eq!(
        run["automationDetails"]["id"],
        sarif::automation_id(&r.target)
    );
    for (target, id) in [
        ("https://api.example.test/", "authprobe/api.example.test/"),
        (
            "https://api.example.test:8443/v1/me/?q=1",
            "authprobe/api.example.test:8443/v1/me/",
        ),
        ("10.0.0.5:8443", "authprobe-tls/10.0.0.5:8443/"),
    ] {
        assert_eq!(sarif::automation_id(target), id);
    }
    for res in run["results"].as_array().unwrap() {
        let fp = &res["partialFingerprints"];
        assert_eq!(fp["primaryLocationLineHash"], fp["authprobe/v1"]);
    }
    // Inconclusive checks are notifications tied to their rule.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let rules = driver["rules"].as_array().unwrap();
    for i in &r.inconclusive {
        let n = notes
            .iter()
            .find(|n| n["message"]["text"].as_str().unwrap().starts_with(&i.id))
            .unwrap();
        assert!(n.get("descriptor").is_none());
        let idx = n["associatedRule"]["index"].as_u64().unwrap() as usize;
        assert_eq!(n["associatedRule"]["id"], i.id.as_str());
        assert_eq!(rules[idx]["id"], i.id.as_str());
    }
}

/// Microsoft's SARIF multitool, installed by `.ci/run` from tests/sarif's lockfile.
fn multitool() -> Option<std::path::PathBuf> {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sarif/node_modules/.bin/sarif-multitool");
    if bin.exists() {
        return Some(bin);
    }
    let install = "npm ci --prefix crates/authprobe/tests/sarif";
    if std::env::var_os("CI").is_some() {
        panic!("the SARIF multitool is not installed but CI is set: {install}");
    }
    eprintln!(
        "SKIP: the SARIF multitool is not installed ({install}); SARIF is checked against the OASIS schema only"
    );
    None
}

/// The multitool's errors and warnings on `sarif` (its notes are advice, not defects).
fn multitool_complaints(bin: &std::path::Path, name: &str, sarif: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(format!("{name}.sarif"));
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, sarif).unwrap();
    let out = std::process::Command::new(bin)
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--log", "ForceOverwrite"])
        // The .NET program would otherwise need ICU, which a fresh Debian lacks; checking
        // a SARIF file needs no culture data.
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("the multitool runs");
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "multitool failed on {name}: {console}"
    );
    // It exits 0 whatever it finds; its own SARIF log holds the verdicts. A result with no
    // level of its own takes its rule's default, and SARIF's default is "warning".
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap())
        .unwrap_or_else(|e| panic!("multitool log of {name}: {e}; {console}"));
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut complaints = Vec::new();
    for res in run["results"].as_array().cloned().unwrap_or_default() {
        let rule_default = res["ruleIndex"]
            .as_u64()
            .and_then(|i| rules.get(i as usize))
            .and_then(|r| r["defaultConfiguration"]["level"].as_str());
        let level = res["level"].as_str().or(rule_default).unwrap_or("warning");
        if level == "error" || level == "warning" {
            complaints.push(format!(
                "{level} {}: {}",
                res["ruleId"].as_str().unwrap_or("?"),
                res["message"]
            ));
        }
    }
    // The console says the same in words: a line there that the log lacks still counts.
    complaints.extend(
        console
            .lines()
            .filter(|l| l.contains(": error SARIF") || l.contains(": warning SARIF"))
            .map(|l| format!("console: {l}")),
    );
    complaints
}

#[test]
fn sarif_multitool_finds_no_error_or_warning() {
    let Some(bin) = multitool() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tls = rt.block_on(async {
        let lab = common::lab(Profile::Vulnerable, &[]).await;
        let opts = common::options(&lab, common::quick_limits());
        // `authprobe tls` without `--server-ca`: the lab's private CA makes the chain
        // untrusted, a finding to locate (its protocols and suites are beyond reproach).
        authprobe::engine::tls_scan(&authprobe::engine::TlsScanOptions {
            target: authprobe::facts::tls::TlsTarget::from_url(&opts.target).unwrap(),
            tls: authprobe::http::TlsSettings {
                server_ca: None,
                insecure: false,
            },
            gather: authprobe::facts::tls::GatherOptions {
                timeout: std::time::Duration::from_secs(5),
                concurrency: 8,
                limiter: None,
                guard: None,
            },
        })
        .await
        .expect("tls scan")
    });
    // The lab serves its protected resource below the root, and a scan refuses a root
    // that answers 404 to the lab's own credentials. The same report with its target
    // moved to the root is what a root-path API's scan looks like: only the target
    // decides where SARIF locates results.
    let mut root = labs().vulnerable.clone();
    let mut at_root = url::Url::parse(&root.target).unwrap();
    at_root.set_path("/");
    root.target = at_root.to_string();
    assert_eq!(url::Url::parse(&root.target).unwrap().path(), "/");
    assert!(
        !url::Url::parse(&tls.target).is_ok_and(|u| u.has_host()),
        "{}",
        tls.target
    );
    let mut failures = Vec::new();
    for (name, report) in [
        ("root-path-scan", &root),
        ("vulnerable-lab-scan", &labs().vulnerable),
        ("tls", &tls),
    ] {
        assert!(!report.findings.is_empty(), "{name}: results to validate");
        let sarif = sarif::render(report);
        assert_valid_sarif(&serde_json::from_str(&sarif).unwrap());
        for c in multitool_complaints(&bin, name, &sarif) {
            failures.push(format!("{name}: {c}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // The validator bites: the two defects it found before are found again.
    let mut old = sarif_of(&root);
    old["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        "/".into();
    let id = old["runs"][0]["tool"]["driver"]["rules"][0]["id"].clone();
    old["runs"][0]["tool"]["driver"]["rules"][0]["name"] = id;
    let found = multitool_complaints(&bin, "old", &old.to_string()).join("\n");
    assert!(
        found.contains("SARIF1004") && found.contains("SARIF1001"),
        "{found}"
    );
}
