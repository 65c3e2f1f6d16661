pub mod malformed_token_accepted;
pub mod method_bypass;
pub mod missing;
