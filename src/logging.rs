//! Process logging through `tracing-subscriber`: readable text on a terminal or one JSON
//! object per line, to stderr (stdout is kept for command output and the start banner).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` wins over `level` unless `level_forced`
/// (the level was given as a flag).
pub fn init(format: LogFormat, level: &str, level_forced: bool) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() && !level_forced => EnvFilter::new(v),
        _ => EnvFilter::new(directive(level)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}

/// A bare level applies to our crate and `tower_http`; a full directive passes through.
fn directive(level: &str) -> String {
    if level.contains('=') || level.contains(',') {
        level.to_string()
    } else {
        format!("warn,leoflow={level},tower_http={level}")
    }
}
