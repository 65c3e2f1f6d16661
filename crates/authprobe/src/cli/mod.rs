//! The command line, split as ripgrep splits its flags: [`args`] defines the arguments,
//! [`convert`] turns them into library options, [`output`] renders reports and applies the
//! exit-code gates, and [`cmd`] holds one module per command. Exit codes: 0 done and gates
//! pass; 1 a gate failed; 2 usage, connection or target error, with a one-line reason on
//! stderr.

pub mod args;
pub mod cmd;
pub mod convert;
pub mod output;
