pub mod hsts_missing;
pub mod plaintext_http;
