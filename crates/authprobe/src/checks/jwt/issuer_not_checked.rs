use crate::checks::{Check, CheckFuture, CheckMeta, Need, Remediation};
use crate::engine::Ctx;
use crate::finding::{Family, Severity};

pub static META: CheckMeta = CheckMeta {
    id: "jwt.issuer_not_checked",
    title: "Token minted by another issuer is accepted",
    family: Family::Jwt,
    severity: Severity::High,
    cwe: &[287, 1390],
    owasp: &["API2"],
    description: "Mints a token with another iss with the known key.",
    needs: &[Need::Token],
    remediation: Remediation {
        summary: "Check iss against the issuer you trust and require it.",
        frameworks: &[
            (
                "django",
                "PyJWT: jwt.decode(token, key, algorithms=[...], audience=\"your-api\", issuer=\"https://your-idp\", options={\"require\": [\"exp\", \"iss\", \"aud\", \"sub\"]}); simplejwt: set AUDIENCE and ISSUER.",
            ),
            (
                "express",
                "jsonwebtoken: jwt.verify(token, key, { algorithms, audience: \"your-api\", issuer: \"https://your-idp\", clockTolerance: 30 }); express-jwt takes the same options.",
            ),
            (
                "spring",
                "JwtValidators.createDefaultWithIssuer(issuer) plus a JwtClaimValidator<List<String>> on aud, set with decoder.setJwtValidator(...).",
            ),
            (
                "go",
                "golang-jwt: jwt.WithAudience(\"your-api\"), jwt.WithIssuer(\"https://your-idp\"), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second).",
            ),
            (
                "gateway",
                "Envoy jwt_authn: set issuer and audiences on the provider; Kong: claims_to_verify = exp, nbf.",
            ),
        ],
    },
};

pub struct IssuerNotChecked;

impl Check for IssuerNotChecked {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            super::minted_check(
                ctx,
                &META,
                |jwt, k| {
                    authprobe_jwt::attacks::mint_other_issuer(
                        jwt,
                        k.alg,
                        &k.key,
                        "https://attacker.authprobe.invalid",
                        authprobe_jwt::attacks::unix_now(),
                    )
                    .map(|f| vec![f])
                    .map_err(|e| e.to_string())
                },
                None,
                "a token minted by another issuer got the authorized answer",
            )
            .await
        })
    }
}
