pub mod malformed_token_accepted;
pub mod method_bypass;
pub mod missing;
pub mod scheme_confusion;
pub mod token_optional_with_cert;
pub mod user_enumeration;
pub mod verbose_errors;

/// The family's checks, in catalog order.
pub fn checks() -> Vec<Box<dyn crate::check::Check>> {
    vec![
        Box::new(missing::AuthMissing),
        Box::new(method_bypass::MethodBypass),
        Box::new(malformed_token_accepted::MalformedTokenAccepted),
        Box::new(scheme_confusion::SchemeConfusion),
        Box::new(token_optional_with_cert::TokenOptionalWithCert),
        Box::new(verbose_errors::VerboseErrors),
        Box::new(user_enumeration::UserEnumeration),
    ]
}
