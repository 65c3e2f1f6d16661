pub mod forwarded_proto_trusted;
pub mod hsts_missing;
pub mod insecure_cookie;
pub mod plaintext_http;
