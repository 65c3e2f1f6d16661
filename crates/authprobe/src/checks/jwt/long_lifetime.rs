use crate::check::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::finding::{Family, Severity};
use crate::scan::Scan;

pub static META: CheckMeta = CheckMeta {
    id: "jwt.long_lifetime",
    title: "exp - iat exceeds the policy (default 24 h)",
    family: Family::Jwt,
    severity: Severity::Low,
    cwe: &[613],
    owasp: &["API2"],
    description: "Reads the token given with --bearer and compares its lifetime with --max-token-lifetime.",
    needs: &[Need::Token],
    explained_by: &[],
    remediation: Remediation {
        summary: "Keep access tokens short-lived (minutes to hours) and use refresh tokens for longer sessions.",
        frameworks: &[
            (
                "django",
                "simplejwt: ACCESS_TOKEN_LIFETIME short, REFRESH_TOKEN_LIFETIME for sessions, ROTATE_REFRESH_TOKENS = True.",
            ),
            (
                "express",
                "jwt.sign(..., { expiresIn: \"15m\" }) for access tokens; a separate refresh flow.",
            ),
            (
                "spring",
                "Authorization server: TokenSettings.builder().accessTokenTimeToLive(Duration.ofMinutes(15)).",
            ),
            (
                "go",
                "ExpiresAt: jwt.NewNumericDate(time.Now().Add(15 * time.Minute)).",
            ),
            ("gateway", "Kong jwt: maximum_expiration = 3600."),
        ],
    },
    references: &["RFC 6819 §5.1.5.3", "RFC 7519 §4.1.4"],
    budget: crate::check::Budget::Passive,
    lab_flaw: Some("jwt.long_lifetime"),
    finds: "`exp - iat` exceeds `--max-token-lifetime` (24 h)",
    needs_note: "",
};

pub struct LongLifetime;

impl Check for LongLifetime {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Scan) -> CheckFuture<'a> {
        Box::pin(async move { super::passive::run(ctx, &META) })
    }
}
