//! Performance marks and measures, for the client benchmark
//! (`tests/bench/client.mjs`) and anyone profiling in DevTools: they say
//! where the time of a start or a history page goes. Nobody sees them.

/// Marks the start of the measure `name`.
fn begin(name: &str) -> Option<web_sys::Performance> {
    let performance = web_sys::window()?.performance()?;
    let _ = performance.mark(&format!("{name}:start"));
    Some(performance)
}

/// Records the measure `name` from its start mark to now.
fn end(performance: Option<web_sys::Performance>, name: &str) {
    if let Some(performance) = performance {
        let _ = performance.measure_with_start_mark(name, &format!("{name}:start"));
    }
}

/// Runs `read` and records its duration as the measure `name`.
pub async fn measure<T>(name: &str, read: impl std::future::Future<Output = T>) -> T {
    let started = begin(name);
    let out = read.await;
    end(started, name);
    out
}

/// Runs `work` and records its duration as the measure `name`.
pub fn measure_now<T>(name: &str, work: impl FnOnce() -> T) -> T {
    let started = begin(name);
    let out = work();
    end(started, name);
    out
}

/// Records the mark `name` now.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
        let _ = performance.mark(name);
    }
}
