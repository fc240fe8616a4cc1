//! Small helpers the benchmark examples share: flags, percentiles, the process's memory.

/// The number after flag `name` on the command line, or `default` when the flag is absent.
/// Exits with a message when the value is not a number (a benchmark tool's flags).
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    match args
        .iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
    {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("{name} takes a number, not {v:?}");
            std::process::exit(2)
        }),
    }
}

/// Whether flag `name` is on the command line.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// p50, p99 and max of `values` as JSON (`NaN`, printed as null, when there are none).
pub fn summary(mut values: Vec<f64>) -> serde_json::Value {
    values.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        if values.is_empty() {
            return f64::NAN;
        }
        let i = ((values.len() as f64 - 1.0) * p).round() as usize;
        values[i.min(values.len() - 1)]
    };
    serde_json::json!({
        "p50": percentile(0.5),
        "p99": percentile(0.99),
        "max": values.last().copied().unwrap_or(f64::NAN),
    })
}

/// One memory figure of this process from /proc/self/status (`VmRSS:` now, `VmHWM:` the peak),
/// in MiB; 0 where /proc is not there.
pub fn rss_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU time this process has used (user + system), in seconds, from /proc/self/stat; 0 where
/// /proc is not there.
pub fn cpu_secs() -> f64 {
    // Fields after the command name (which may hold spaces, so split after its closing
    // parenthesis): utime and stime are the 12th and 13th, in clock ticks (100 per second on
    // Linux).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 1..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
            Some((ticks(11)? + ticks(12)?) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Wait until this process is nearly idle: at least `least`, then until a 2-second window
/// used under `busy_share` of one core, giving up after `most`. `report` hears of every busy
/// window (time waited, share of a core used). Returns the time waited and whether the process
/// got quiet (false: it gave up at `most`).
pub async fn wait_until_quiet(
    least: std::time::Duration,
    most: std::time::Duration,
    busy_share: f64,
    mut report: impl FnMut(std::time::Duration, f64),
) -> (std::time::Duration, bool) {
    let started = std::time::Instant::now();
    tokio::time::sleep(least).await;
    let window = std::time::Duration::from_secs(2);
    while started.elapsed() < most {
        let before = cpu_secs();
        tokio::time::sleep(window).await;
        let share = (cpu_secs() - before) / window.as_secs_f64();
        if share < busy_share {
            return (started.elapsed(), true);
        }
        report(started.elapsed(), share);
    }
    (started.elapsed(), false)
}

/// Every 100 nodes, one progress line on stderr: `tool: N nodes joined after S s, M MiB
/// resident`.
pub fn report_joined(tool: &str, nodes: usize, started: std::time::Instant) {
    if nodes.is_multiple_of(100) {
        eprintln!(
            "{tool}: {nodes} nodes joined after {:.0} s, {:.0} MiB resident",
            started.elapsed().as_secs_f64(),
            rss_mib("VmRSS:")
        );
    }
}
