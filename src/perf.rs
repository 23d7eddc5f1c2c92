//! Performance marks and measures, for the client benchmark
//! (`tests/bench/client.mjs`) and anyone profiling in DevTools: they say
//! where the time of a start or a history page goes. Nobody sees them.

/// Runs `read` and records its duration as the measure `name`.
pub async fn measure<T>(name: &str, read: impl std::future::Future<Output = T>) -> T {
    let Some(performance) = web_sys::window().and_then(|window| window.performance()) else {
        return read.await;
    };
    let start = format!("{name}:start");
    let _ = performance.mark(&start);
    let out = read.await;
    let _ = performance.measure_with_start_mark(name, &start);
    out
}

/// Records the mark `name` now.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
        let _ = performance.mark(name);
    }
}
