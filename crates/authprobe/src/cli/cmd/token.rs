//! `authprobe token inspect`: what a JWT says about itself, without sending anything.

use anyhow::{Result, anyhow};
use std::time::Duration;

pub fn inspect(token: &str, json: bool, max_lifetime: Duration) -> Result<i32> {
    let info = authprobe::token_info::inspect(token, max_lifetime).map_err(|e| anyhow!(e))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(0);
    }
    println!("token   {}", info.token);
    println!("header  {}", serde_json::to_string(&info.header)?);
    println!(
        "claims  {}",
        serde_json::to_string_pretty(&info.claims)?.replace('\n', "\n        ")
    );
    for (name, human) in &info.times {
        println!("{name:<7} {human}");
    }
    if let (Some(state), Some(why)) = (info.validity, &info.validity_reason) {
        println!("status  {state}: {why}");
    }
    for n in &info.notes {
        println!("note    {n}");
    }
    if info.findings.is_empty() {
        println!("\nNo passive findings.");
    }
    for f in &info.findings {
        println!("finding {}  {}", f.id, f.detail);
    }
    Ok(0)
}
