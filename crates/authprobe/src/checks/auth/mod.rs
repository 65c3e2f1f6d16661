pub mod malformed_token_accepted;
pub mod method_bypass;
pub mod missing;
pub mod scheme_confusion;
pub mod token_optional_with_cert;
pub mod user_enumeration;
pub mod verbose_errors;
