//! A login storm: [`GUESSES`] wrong passwords at once for three names, while
//! someone else goes on using the app. Measured: how many guesses were
//! turned away (429 or 503) before costing a hash, how long the bystander's
//! requests took meanwhile against the same requests on the idle server,
//! and how far the server's resident memory rose above its resting level
//! (each Argon2 hash takes 19 MiB; the hashing pool bounds how many run).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::COOKIE;

use crate::load::{self, Account};
use crate::process::{rss_kib, Process};
use crate::stats::Latencies;

pub const GUESSES: usize = 300;

pub struct Storm {
    pub refused: usize,
    pub idle_p99_ms: f64,
    pub storm_p99_ms: f64,
    pub peak_mib: f64,
}

/// The bystander's request: their conversation list.
async fn list(client: &reqwest::Client, addr: SocketAddr, account: &Account) -> Duration {
    let started = Instant::now();
    let response = client
        .get(format!("http://{addr}/api/conversations"))
        .header(COOKIE, &account.cookie)
        .send()
        .await
        .expect("conversations");
    assert!(response.status().is_success(), "{}", response.status());
    started.elapsed()
}

pub async fn run(data: &std::path::Path, core: Option<usize>) -> Storm {
    let server = Process::natter(data, core);
    let addr = server.addr;
    for victim in 0..3 {
        load::sign_up(addr, &format!("victim{victim}")).await;
    }
    let bystander = load::sign_up(addr, "bystander").await;
    let client = reqwest::Client::new();
    let mut idle = Latencies::default();
    for _ in 0..200 {
        idle.record(list(&client, addr, &bystander).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let resting = server.rss_kib();

    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(resting));
    let sampler = {
        let (done, peak, pid) = (done.clone(), peak.clone(), server.pid());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = rss_kib(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let guesses: Vec<_> = (0..GUESSES)
        .map(|n| {
            let client = reqwest::Client::new();
            tokio::spawn(async move {
                client
                    .post(format!("http://{addr}/api/login"))
                    .json(&serde_json::json!({
                        "username": format!("victim{}", n % 3),
                        "password": "guess guess guess",
                    }))
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut during = Latencies::default();
    while guesses.iter().any(|guess| !guess.is_finished()) {
        during.record(list(&client, addr, &bystander).await);
    }
    let mut refused = 0;
    for guess in guesses {
        if matches!(guess.await.unwrap_or(0), 429 | 503) {
            refused += 1;
        }
    }
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let peak = peak.load(Ordering::Relaxed);
    Storm {
        refused,
        idle_p99_ms: idle.percentile_ms(99.0),
        storm_p99_ms: during.percentile_ms(99.0),
        peak_mib: peak.saturating_sub(resting) as f64 / 1024.0,
    }
}
