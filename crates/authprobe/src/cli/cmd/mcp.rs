//! `authprobe mcp`: the MCP server on stdin and stdout.

use crate::cli::args::McpArgs;
use anyhow::{Result, anyhow};
use authprobe::mcp::config::{Flags, McpConfig};

pub async fn run_mcp(a: McpArgs) -> Result<i32> {
    let flags = Flags {
        config: a.config,
        allow_target: a.allow_target,
        db: a.db,
        data_dir: a.data_dir,
        max_requests: a.max_requests.map(|n| n as usize),
        max_time: a.max_time,
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    let config = McpConfig::load(&flags, &env).map_err(|e| anyhow!(e))?;
    authprobe::mcp::serve_stdio(config).await?;
    Ok(0)
}
