//! `authprobe mcp`: the scanner as tools for AI assistants, over stdio or at `/mcp` under
//! `authprobe serve` (Streamable HTTP, behind its API keys), on the `rmcp` crate.
//!
//! A model that can launch scans can be talked into launching them anywhere: a prompt
//! injected through a page or a code comment is enough. So what a call may reach and with
//! what credentials is fixed when the server starts ([`config`]): the scope is checked on
//! every URL after DNS resolution (the scanner follows no redirect), credentials are named
//! by profile and never cross the conversation, only GET, HEAD and OPTIONS are sent
//! whatever the arguments, each call has a request budget, and every result passes
//! through the redaction of the profiles' secrets on top of the reports' own.
//!
//! Scans run in this process and land in the same history store as `serve`'s, so
//! `list_scans`, `diff_scans` and the dashboard see them.

pub mod config;
pub mod tools;

use crate::http::Limits;
use crate::service::live::{Live, LiveState};
use crate::service::runner::Runner;
use crate::store::{FindingRow, NewTarget, ScanRow, ScanStatus, Store, Target, TargetPatch};
use config::McpConfig;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams, CreateTaskResult,
    GetTaskParams, GetTaskResult, Implementation, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ProgressToken, RequestMetaObject, ServerCapabilities, ServerConfig,
    UpdateTaskParams,
};
use rmcp::service::{Peer, RequestContext, RoleServer};
use rmcp::task_manager::{TaskExit, TaskManager, TaskOptions};
use rmcp::{ErrorData as McpError, ServerHandler, tool, tool_router};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tools::*;

const INSTRUCTIONS: &str = "authprobe scans the authentication layer of HTTP APIs (JWT, mutual TLS, HTTP Basic and the TLS under them) from the outside. scan_api starts a scan of a URL inside the scope the user configured and answers within wait_seconds; follow a running scan with get_scan, then read get_report. Credentials are named by credential_profile; never ask the user for a token or password. Only GET, HEAD and OPTIONS requests are sent.";

/// What the trigger column says for scans started here.
const TRIGGER: &str = "mcp";

struct Inner {
    store: Store,
    runner: Runner,
    config: McpConfig,
    redactor: Redactor,
    tasks: TaskManager,
}

/// One MCP server: cheap to clone (the HTTP transport makes one per session or request).
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
    tool_router: ToolRouter<McpServer>,
}

impl McpServer {
    /// A server over `store`, publishing scan progress on `live` (the dashboard's, under
    /// `serve`).
    pub fn new(store: Store, live: Live, config: McpConfig) -> Self {
        let limits = Limits {
            max_requests: config.max_requests,
            max_time: config.max_time,
            ..Limits::default()
        };
        let runner = Runner {
            store: store.clone(),
            scope: Arc::new(config.scope.clone()),
            live,
            wake: Arc::new(tokio::sync::Notify::new()),
            limits,
            fixed_budget: true,
            worker: crate::service::runner::worker_name("mcp"),
            // A model polls get_scan: a failure is shown at once, not retried behind it.
            policy: crate::service::runner::JobPolicy {
                max_attempts: 1,
                ..Default::default()
            },
            hosts: Default::default(),
        };
        McpServer {
            inner: Arc::new(Inner {
                store,
                runner,
                redactor: Redactor::new(config.secrets()),
                config,
                tasks: TaskManager::new(),
            }),
            tool_router: Self::tool_router(),
        }
    }

    /// Every tool this server offers, as `tools/list` answers.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.tool_router.list_all()
    }
}

#[tool_router]
impl McpServer {
    /// Scan an HTTP API's authentication layer (JWT, mTLS, Basic, TLS) and answer with the
    /// scan's state: done with its summary when it ends within wait_seconds, else running
    /// with its progress (follow it with get_scan). Sends progress notifications when the
    /// call carries a progress token. Only GET, HEAD and OPTIONS are sent, within the
    /// server's request budget.
    #[tool(
        name = "scan_api",
        annotations(title = "Scan an API", read_only_hint = false, open_world_hint = true)
    )]
    async fn scan_api(
        &self,
        Parameters(args): Parameters<ScanArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
    ) -> Result<Json<ScanState>, String> {
        let wait = Duration::from_secs(u64::from(
            args.wait_seconds
                .unwrap_or(DEFAULT_WAIT_SECONDS)
                .min(MAX_WAIT_SECONDS),
        ));
        let started = self.start(&args).await?;
        let token = meta.get_progress_token();
        let rx = started.rx;
        let follow = follow(rx, token.map(|t| (peer, t)));
        let _ = tokio::time::timeout(wait, follow).await;
        self.state(started.scan.id).await.map(Json)
    }

    /// A scan's state: status, progress while it runs, and once done its score, grade and
    /// most severe findings.
    #[tool(
        name = "get_scan",
        annotations(title = "A scan's state", read_only_hint = true)
    )]
    async fn get_scan(
        &self,
        Parameters(args): Parameters<ScanIdArgs>,
    ) -> Result<Json<ScanState>, String> {
        self.state(args.scan_id).await.map(Json)
    }

    /// A finished scan's whole report, in markdown (default), json, sarif, junit or html,
    /// secrets redacted.
    #[tool(
        name = "get_report",
        annotations(title = "A scan's report", read_only_hint = true)
    )]
    async fn get_report(
        &self,
        Parameters(args): Parameters<ReportArgs>,
    ) -> Result<Json<ReportOut>, String> {
        let format = args.format.unwrap_or(ReportFormat::Markdown);
        let scan = self.scan_row(args.scan_id).await?;
        let report = self
            .inner
            .store
            .report(scan.id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "scan {} is {} and has no report{}",
                    scan.id,
                    scan.status.as_str(),
                    if matches!(scan.status, ScanStatus::Queued | ScanStatus::Running) {
                        " yet: follow it with get_scan"
                    } else {
                        ""
                    }
                )
            })?;
        let (_, mut content) =
            crate::service::api::render(&report, format.as_str()).ok_or("unknown report format")?;
        let truncated = content.len() > MAX_REPORT_CHARS;
        if truncated {
            let mut cut = MAX_REPORT_CHARS;
            while !content.is_char_boundary(cut) {
                cut -= 1;
            }
            content.truncate(cut);
        }
        Ok(Json(ReportOut {
            scan_id: scan.id,
            format,
            content,
            truncated,
        }))
    }

    /// The scan history, newest first: every target's, or one target's (by id, name or
    /// URL). The same history as the `authprobe serve` dashboard's when it shares the
    /// database.
    #[tool(
        name = "list_scans",
        annotations(title = "Scan history", read_only_hint = true)
    )]
    async fn list_scans(
        &self,
        Parameters(args): Parameters<ListArgs>,
    ) -> Result<Json<ScanList>, String> {
        let limit = args.limit.unwrap_or(20).clamp(1, 100);
        let target = match args.target.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) => Some(self.find_target(t).await?),
        };
        let rows = self
            .inner
            .store
            .list_scans(target.as_ref().map(|t| t.id), limit, None)
            .await
            .map_err(|e| e.to_string())?;
        let mut targets = std::collections::HashMap::new();
        let mut scans = Vec::with_capacity(rows.len());
        for s in rows {
            if let std::collections::hash_map::Entry::Vacant(e) = targets.entry(s.target_id) {
                e.insert(self.target_ref(s.target_id).await?);
            }
            let t = &targets[&s.target_id];
            scans.push(ScanListItem {
                scan_id: s.id,
                target: TargetRef {
                    id: t.id,
                    name: t.name.clone(),
                    url: t.url.clone(),
                },
                status: s.status.as_str().into(),
                trigger: s.trigger,
                created_at_ms: s.created_at,
                score: s.score,
                grade: s.grade,
                findings: s.findings,
                error: s.error,
            });
        }
        Ok(Json(ScanList { scans }))
    }

    /// What changed between two finished scans of the same target: new findings, fixed
    /// ones, unchanged ones, and the score delta.
    #[tool(
        name = "diff_scans",
        annotations(title = "Compare two scans", read_only_hint = true)
    )]
    async fn diff_scans(
        &self,
        Parameters(args): Parameters<DiffArgs>,
    ) -> Result<Json<DiffOut>, String> {
        let (a, b) = (
            self.scan_row(args.from).await?,
            self.scan_row(args.to).await?,
        );
        if a.target_id != b.target_id {
            return Err(format!(
                "scans {} and {} are of different targets; compare two scans of one target",
                a.id, b.id
            ));
        }
        let diff = self
            .inner
            .store
            .diff(a.id, b.id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "both scans must be done (scan {} is {}, scan {} is {})",
                    a.id,
                    a.status.as_str(),
                    b.id,
                    b.status.as_str()
                )
            })?;
        let brief = |rows: Vec<FindingRow>| rows.into_iter().map(finding_brief).collect();
        Ok(Json(DiffOut {
            from: a.id,
            to: b.id,
            target: self.target_ref(a.target_id).await?,
            grade_from: diff.from.grade.clone(),
            grade_to: diff.to.grade.clone(),
            score_delta: diff.score_delta,
            new: brief(diff.new),
            fixed: brief(diff.fixed),
            unchanged: brief(diff.unchanged),
        }))
    }

    /// Decode a JWT offline: header, claims (sensitive values masked), validity and the
    /// findings visible from the token alone. Nothing is sent anywhere.
    #[tool(
        name = "inspect_token",
        annotations(
            title = "Inspect a JWT",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn inspect_token(
        &self,
        Parameters(args): Parameters<TokenArgs>,
    ) -> Result<Json<TokenOut>, String> {
        let max = crate::options::JwtOptions::defaults().max_lifetime;
        let info = crate::token_info::inspect(&args.token, Duration::from_secs(max))?;
        let metas = crate::checks::metas();
        let findings = info
            .findings
            .iter()
            .map(|f| {
                let meta = metas.iter().find(|m| m.id == f.id);
                PassiveFinding {
                    check: f.id.to_string(),
                    severity: meta.map_or("info", |m| m.severity.as_str()).to_string(),
                    title: meta.map_or("", |m| m.title).to_string(),
                    detail: f.detail.clone(),
                }
            })
            .collect();
        Ok(Json(TokenOut {
            token: info.token,
            header: info.header,
            claims: info.claims,
            notes: info.notes,
            validity: info.validity.map(str::to_string),
            times: info
                .times
                .into_iter()
                .map(|(claim, utc)| TimeClaim {
                    claim: claim.to_string(),
                    utc,
                })
                .collect(),
            findings,
        }))
    }

    /// What a check looks for, how it decides, its CWE and OWASP API Top 10 mapping, and
    /// how to fix what it finds, for one stack when `framework` is given.
    #[tool(
        name = "explain_check",
        annotations(
            title = "Explain a check",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn explain_check(
        &self,
        Parameters(args): Parameters<ExplainArgs>,
    ) -> Result<Json<CheckOut>, String> {
        let metas = crate::checks::metas();
        let id = args.id.trim();
        let Some(m) = metas.iter().find(|m| m.id == id) else {
            let family = id.split('.').next().unwrap_or_default();
            let mut near: Vec<&str> = metas
                .iter()
                .map(|m| m.id)
                .filter(|m| m.starts_with(&format!("{family}.")))
                .collect();
            if near.is_empty() {
                near = metas.iter().map(|m| m.id).collect();
            }
            return Err(format!("no check {id:?}; the ids are: {}", near.join(", ")));
        };
        let frameworks: Vec<String> = m
            .remediation
            .frameworks
            .iter()
            .map(|(f, _)| f.to_string())
            .collect();
        let framework_advice = args.framework.as_deref().and_then(|want| {
            let want = want.trim().to_ascii_lowercase();
            m.remediation
                .frameworks
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(&want))
                .map(|(f, advice)| FrameworkAdvice {
                    framework: f.to_string(),
                    advice: advice.to_string(),
                })
        });
        Ok(Json(CheckOut {
            id: m.id.into(),
            title: m.title.into(),
            family: m.family.as_str().into(),
            severity: m.severity.as_str().into(),
            cwe: m.cwe_ids(),
            owasp: m.owasp_ids(),
            description: m.description.into(),
            finds: m.finds.into(),
            remediation: m.remediation.summary.into(),
            framework_advice,
            frameworks,
            references: m.references.iter().map(|r| r.to_string()).collect(),
        }))
    }

    /// The TLS checks of one endpoint (protocols, cipher suites, certificate), without any
    /// HTTP request. The host must be inside the scope.
    #[tool(
        name = "tls_scan",
        annotations(
            title = "Scan a TLS endpoint",
            read_only_hint = true,
            open_world_hint = true
        )
    )]
    async fn tls_scan(
        &self,
        Parameters(args): Parameters<TlsArgs>,
    ) -> Result<Json<TlsOut>, String> {
        use crate::facts::tls::{GatherOptions, TlsTarget};
        let target = TlsTarget::parse(args.host.trim(), None)?;
        let url = url::Url::parse(&format!("https://{}/", target.display()))
            .map_err(|e| format!("{}: {e}", args.host))?;
        self.inner
            .config
            .scope
            .check(&url)
            .await
            .map_err(|e| e.to_string())?;
        let report = crate::engine::tls_scan(&crate::engine::TlsScanOptions {
            target,
            tls: crate::http::TlsSettings::default(),
            gather: GatherOptions {
                timeout: Duration::from_secs(10),
                concurrency: 4,
                limiter: None,
                guard: Some(Arc::new(self.inner.config.scope.clone())),
            },
        })
        .await
        .map_err(|e| e.to_string())?;
        Ok(Json(TlsOut {
            target: report.target.clone(),
            score: report.score,
            grade: report.grade.clone(),
            findings: report
                .findings
                .iter()
                .map(|f| FindingDetail {
                    check: f.id.clone(),
                    severity: f.severity.as_str().into(),
                    title: f.title.clone(),
                    description: f.description.clone(),
                })
                .collect(),
            tls: serde_json::to_value(&report.tls).unwrap_or_default(),
        }))
    }
}

/// A scan this server started and the channel its progress is published on.
struct Started {
    scan: ScanRow,
    rx: Option<watch::Receiver<LiveState>>,
}

impl McpServer {
    /// Checks everything a call could get wrong before the first request: the checks, the
    /// profile, the scope of the URL and of the description's URL. Then stores the target
    /// and starts the scan in this process.
    async fn start(&self, args: &ScanArgs) -> Result<Started, String> {
        let inner = &self.inner;
        let url = url::Url::parse(args.url.trim())
            .map_err(|e| format!("url {:?} is not a valid URL: {e}", args.url))?;
        if let Some(bad) = crate::checks::unknown_selection(&args.checks) {
            return Err(format!(
                "unknown check or family {bad:?}; explain_check lists the ids"
            ));
        }
        let profile = args
            .credential_profile
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let creds = match profile {
            None => Default::default(),
            Some(name) => inner.config.profiles.get(name).cloned().ok_or_else(|| {
                let known: Vec<&str> = inner.config.profiles.keys().map(String::as_str).collect();
                format!(
                    "no credential profile {name:?} is configured{}; the user defines profiles in the MCP configuration file (`profiles:`) or as AUTHPROBE_MCP_PROFILE_<NAME>_<FIELD> variables, and restarts the server",
                    if known.is_empty() {
                        " (none are)".to_string()
                    } else {
                        format!(" (the configured ones: {})", known.join(", "))
                    }
                )
            })?,
        };
        inner
            .config
            .scope
            .check(&url)
            .await
            .map_err(|e| e.to_string())?;
        let spec = match args.spec.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("auto") => Some("auto".to_string()),
            Some(s) => {
                let u = url::Url::parse(s)
                    .map_err(|e| format!("spec {s:?} is neither `auto` nor a URL: {e}"))?;
                inner
                    .config
                    .scope
                    .check(&u)
                    .await
                    .map_err(|e| format!("spec: {e}"))?;
                Some(u.to_string())
            }
        };
        let name = match profile {
            None => format!("mcp: {url}"),
            Some(p) => format!("mcp: {url} as {p}"),
        };
        let store = &inner.store;
        let target = match store.target_named(&name).await.map_err(|e| e.to_string())? {
            Some(t) => store
                .update_target(
                    t.id,
                    TargetPatch {
                        spec: Some(spec),
                        checks: Some(args.checks.clone()),
                        credentials: Some(creds),
                        ..TargetPatch::default()
                    },
                )
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the target was deleted meanwhile")?,
            None => store
                .create_target(NewTarget {
                    name: Some(name),
                    url: url.to_string(),
                    spec,
                    checks: args.checks.clone(),
                    credentials: creds,
                    ..NewTarget::default()
                })
                .await
                .map_err(|e| e.to_string())?,
        };
        match store.start_scan_now(target.id, TRIGGER).await {
            Ok(scan) => {
                let tx = inner.runner.live.start(scan.id);
                let rx = tx.subscribe();
                let runner = inner.runner.clone();
                let row = scan.clone();
                tokio::spawn(async move { runner.run_live(row, tx).await });
                Ok(Started { scan, rx: Some(rx) })
            }
            // One scan per target at a time: the call follows the one already running.
            Err(crate::store::StoreError::Conflict(_)) => {
                let active = store
                    .list_scans(Some(target.id), 1, None)
                    .await
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .find(|s| matches!(s.status, ScanStatus::Queued | ScanStatus::Running))
                    .ok_or("a scan of this target just ended; call scan_api again")?;
                let rx = inner.runner.live.subscribe(active.id);
                Ok(Started { scan: active, rx })
            }
            Err(e) => Err(e.to_string()),
        }
    }

    async fn scan_row(&self, id: i64) -> Result<ScanRow, String> {
        self.inner
            .store
            .scan(id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no scan {id}; list_scans shows the history"))
    }

    async fn target_ref(&self, id: i64) -> Result<TargetRef, String> {
        let t = self
            .inner
            .store
            .target(id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("target {id} was deleted"))?;
        Ok(TargetRef {
            id: t.id,
            name: t.name,
            url: t.url,
        })
    }

    /// A target by id, exact name or exact URL.
    async fn find_target(&self, key: &str) -> Result<Target, String> {
        let store = &self.inner.store;
        if let Ok(id) = key.parse::<i64>()
            && let Some(t) = store.target(id).await.map_err(|e| e.to_string())?
        {
            return Ok(t);
        }
        if let Some(t) = store.target_named(key).await.map_err(|e| e.to_string())? {
            return Ok(t);
        }
        let all = store.list_targets(0).await.map_err(|e| e.to_string())?;
        let by_url = |u: &str| {
            all.iter()
                .map(|s| &s.target)
                .find(|t| t.url == u || t.url.trim_end_matches('/') == u.trim_end_matches('/'))
                .cloned()
        };
        by_url(key).ok_or_else(|| format!("no target {key:?} (give its id, name or URL)"))
    }

    async fn state(&self, id: i64) -> Result<ScanState, String> {
        let scan = self.scan_row(id).await?;
        let target = self.target_ref(scan.target_id).await?;
        let live = self.inner.runner.live.get(scan.id);
        let progress = match (&scan.status, live) {
            (ScanStatus::Queued | ScanStatus::Running, Some(l)) => Some(Progress {
                phase: l.phase,
                checks_done: l.done,
                checks_total: l.total,
            }),
            _ => None,
        };
        let summary = match scan.status {
            ScanStatus::Done => {
                let mut rows = self
                    .inner
                    .store
                    .findings(scan.id)
                    .await
                    .map_err(|e| e.to_string())?;
                rows.sort_by_key(|r| severity_rank(&r.severity));
                let sev = scan.severities.unwrap_or_default();
                Some(Summary {
                    score: scan.score.unwrap_or_default(),
                    grade: scan.grade.clone().unwrap_or_default(),
                    findings: scan.findings.unwrap_or_default(),
                    severities: Severities {
                        critical: sev[0],
                        high: sev[1],
                        medium: sev[2],
                        low: sev[3],
                        info: sev[4],
                    },
                    requests_sent: scan.requests_sent.unwrap_or_default(),
                    duration_ms: scan.duration_ms.unwrap_or_default(),
                    top_findings: rows.into_iter().take(25).map(finding_brief).collect(),
                })
            }
            _ => None,
        };
        let next = match scan.status {
            ScanStatus::Queued | ScanStatus::Running => {
                format!(
                    "the scan is still running: call get_scan with scan_id {id} in a few seconds"
                )
            }
            ScanStatus::Done => format!(
                "get_report with scan_id {id} gives every finding with its evidence and fix; explain_check explains a check"
            ),
            ScanStatus::Failed | ScanStatus::Interrupted => {
                "read `error`; scan_api starts a new scan".to_string()
            }
        };
        Ok(ScanState {
            scan_id: scan.id,
            target,
            status: scan.status.as_str().into(),
            trigger: scan.trigger,
            created_at_ms: scan.created_at,
            finished_at_ms: scan.finished_at,
            progress,
            summary,
            error: scan.error,
            next,
        })
    }

    /// `scan_api` as a task (the tasks extension): the call answers at once and the client
    /// polls `tasks/get` until the scan ends.
    async fn scan_task(
        &self,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args: ScanArgs = serde_json::from_value(serde_json::Value::Object(
            request.arguments.clone().unwrap_or_default(),
        ))
        .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
        let started = match self.start(&args).await {
            Ok(s) => s,
            Err(e) => return Ok(self.redacted(error_result(e)).into()),
        };
        let me = self.clone();
        // A progress token given with the call stays valid for the task's life.
        let notify = context
            .meta
            .get_progress_token()
            .map(|t| (context.peer.clone(), t));
        let task = self.inner.tasks.spawn(TaskOptions::new(), move |ctx| {
            Box::pin(async move {
                let id = started.scan.id;
                if let Some(rx) = &started.rx
                    && notify.is_some()
                {
                    tokio::spawn(follow(Some(rx.clone()), notify));
                }
                if let Some(mut rx) = started.rx {
                    loop {
                        let l = rx.borrow_and_update().clone();
                        ctx.set_status_message(format!(
                            "scan {id}: {} ({}/{} checks)",
                            l.phase, l.done, l.total
                        ));
                        tokio::select! {
                            changed = rx.changed() => if changed.is_err() { break },
                            () = ctx.cancelled() => return Err(TaskExit::Cancelled),
                        }
                    }
                }
                let result = match me.state(id).await {
                    Ok(s) => structured(&s),
                    Err(e) => error_result(e),
                };
                Ok(me.redacted(result))
            })
        });
        Ok(CallToolResponse::Task(CreateTaskResult::new(task)))
    }

    fn redacted(&self, mut result: CallToolResult) -> CallToolResult {
        self.inner.redactor.result(&mut result);
        result
    }
}

/// Follows a scan's progress until it ends (the channel closes), sending each change as a
/// progress notification when the client asked for them.
async fn follow(
    rx: Option<watch::Receiver<LiveState>>,
    notify: Option<(Peer<RoleServer>, ProgressToken)>,
) {
    let Some(mut rx) = rx else { return };
    loop {
        let l = rx.borrow_and_update().clone();
        if let Some((peer, token)) = &notify {
            let mut p = ProgressNotificationParam::new(token.clone(), f64::from(l.done))
                .with_message(format!("{} ({}/{} checks)", l.phase, l.done, l.total));
            if l.total > 0 {
                p = p.with_total(f64::from(l.total));
            }
            let _ = peer.notify_progress(p).await;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

fn structured<T: serde::Serialize>(value: &T) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(v) => CallToolResult::structured(v),
        Err(e) => error_result(e.to_string()),
    }
}

fn error_result(message: String) -> CallToolResult {
    CallToolResult::error(vec![rmcp::model::ContentBlock::text(message)])
}

fn finding_brief(r: FindingRow) -> FindingBrief {
    FindingBrief {
        check: r.check_id,
        severity: r.severity,
        title: r.title,
        operation: r.operation,
    }
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tasks()
                .build(),
        )
        .with_server_info(
            Implementation::new("authprobe", env!("CARGO_PKG_VERSION"))
                .with_title("authprobe: API authentication scanner"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tool_router.list_all()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let tasks = context
            .client_capabilities()
            .is_some_and(|c| c.supports_tasks());
        if request.name == "scan_api" && tasks {
            return self.scan_task(&request, &context).await;
        }
        let tcc = ToolCallContext::new(self, request, context);
        Ok(match self.tool_router.call(tcc).await? {
            CallToolResponse::Complete(r) => self.redacted(r).into(),
            other => other,
        })
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        Ok(GetTaskResult::new(
            self.inner.tasks.get_task(&request.task_id)?,
        ))
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.inner
            .tasks
            .update_task(&request.task_id, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.inner.tasks.cancel_task(&request.task_id)
    }
}

/// Replaces the profiles' secret values wherever they would appear in a result. The
/// reports redact what the scanner sent already; this also covers what a target echoed
/// back in a form the reports do not know (a header value, a password in an error page).
struct Redactor {
    secrets: Vec<String>,
}

const REDACTED: &str = "[redacted]";

impl Redactor {
    fn new(secrets: Vec<String>) -> Self {
        Redactor { secrets }
    }

    fn text(&self, s: &mut String) {
        for secret in &self.secrets {
            if s.contains(secret.as_str()) {
                *s = s.replace(secret.as_str(), REDACTED);
            }
        }
    }

    fn value(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => self.text(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| self.value(i)),
            serde_json::Value::Object(map) => {
                // Keys too: a claim or header name is not a secret, but a map keyed by
                // values (a report's per-credential sections) could carry one.
                let old = std::mem::take(map);
                for (mut k, mut val) in old {
                    self.text(&mut k);
                    self.value(&mut val);
                    map.insert(k, val);
                }
            }
            _ => {}
        }
    }

    fn result(&self, r: &mut CallToolResult) {
        if self.secrets.is_empty() {
            return;
        }
        if let Some(v) = r.structured_content.as_mut() {
            self.value(v);
        }
        for block in r.content.iter_mut() {
            if let rmcp::model::ContentBlock::Text(t) = block {
                self.text(&mut t.text);
            }
        }
    }
}

/// Runs the server on stdin and stdout until the client closes them. Logs go to stderr:
/// stdout carries the protocol only.
pub async fn serve_stdio(config: McpConfig) -> anyhow::Result<()> {
    use anyhow::Context;
    use rmcp::ServiceExt;
    let opened =
        crate::service::open_store(config.db.as_deref(), config.data_dir.as_deref()).await?;
    eprintln!(
        "authprobe mcp: database {} · scan scope {} · {} credential profile(s) · {} requests per call",
        crate::service::redacted_db(&opened.url),
        config.scope.describe(),
        config.profiles.len(),
        config.max_requests
    );
    let server = McpServer::new(opened.store, Live::default(), config);
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session on stdio")?;
    running.waiting().await.context("the MCP session")?;
    Ok(())
}

/// The Streamable HTTP endpoint `serve` mounts at `/mcp` (its API keys are checked before
/// a request reaches it).
pub fn http_service(
    server: McpServer,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    McpServer,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
> {
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    };
    // The Host allow-list guards an unauthenticated local server against DNS rebinding;
    // this one answers nothing without an API key, which a rebound page cannot send, and
    // may sit behind a proxy under any name.
    let config = StreamableHttpServerConfig::default().disable_allowed_hosts();
    StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redactor_reaches_nested_values_and_text() {
        let r = Redactor::new(vec!["s3cret-token".into()]);
        let mut result = CallToolResult::structured(serde_json::json!({
            "a": ["x s3cret-token y"],
            "s3cret-token": {"b": "s3cret-token"}
        }));
        r.result(&mut result);
        let all = serde_json::to_string(&result).unwrap();
        assert!(!all.contains("s3cret-token"), "{all}");
        assert!(all.contains(REDACTED));
    }

    #[test]
    fn every_tool_has_an_object_schema_and_a_description() {
        let names: Vec<String> = McpServer::tool_router()
            .list_all()
            .into_iter()
            .map(|t| {
                assert!(t.description.as_deref().is_some_and(|d| d.len() > 20));
                assert_eq!(t.input_schema.get("type"), Some(&"object".into()));
                assert!(t.output_schema.is_some(), "{} has no output schema", t.name);
                t.name.to_string()
            })
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "diff_scans",
                "explain_check",
                "get_report",
                "get_scan",
                "inspect_token",
                "list_scans",
                "scan_api",
                "tls_scan"
            ]
        );
    }
}
