//! The storage floor: what storing a group message durably costs in
//! SQLite and nothing else. The rows the writer stores (the server's own
//! schema, made by opening a real store), with the writer's settings, in
//! batches of the pipeline's largest size spread over the fan-out's
//! groups, one fsync per batch. No parsing, checking, acking or
//! delivering: any server that keeps the delivery contract in SQLite pays
//! at least this per message, on top of relaying it.
//!
//! Measured as CPU time of the one thread doing it (fsync waits are not
//! CPU), because the fan-out is bound by the server's one core.

use std::path::Path;

use natter_server::chat::pipeline::MAX_BATCH;
use natter_server::store::sqlite::{self, SqliteStore};
use rusqlite::{params, Connection};
use uuid::Uuid;

use crate::{GROUPS, GROUP_SIZE};

const MESSAGES: usize = 200 * MAX_BATCH;

/// Microseconds of CPU per message stored.
pub async fn micros_per_message(dir: &Path) -> f64 {
    let path = dir.join("floor.sqlite3");
    drop(SqliteStore::open(&path).await.expect("a store"));
    let mut conn = Connection::open(&path).expect("open");
    sqlite::writer_settings(&conn).expect("the writer's settings");
    let members = GROUPS * GROUP_SIZE;
    let tx = conn.transaction().expect("begin");
    for user in 1..=members {
        tx.execute(
            "INSERT INTO users (id, username, username_key, password_hash, created_at)
             VALUES (?1, ?2, ?2, '', 0)",
            params![user, format!("member{user}")],
        )
        .expect("a user");
    }
    for group in 1..=GROUPS {
        tx.execute(
            "INSERT INTO conversations (id, kind, created_at) VALUES (?1, 'group', 0)",
            [group],
        )
        .expect("a group");
    }
    tx.commit().expect("commit");

    let mut seqs = [0_u64; GROUPS + 1];
    let started = thread_cpu_nanos();
    for batch in 0..MESSAGES / MAX_BATCH {
        let tx = conn.transaction().expect("begin");
        for n in 0..MAX_BATCH {
            let group = n % GROUPS + 1;
            let sender = (group - 1) * GROUP_SIZE + (n / GROUPS) % GROUP_SIZE + 1;
            seqs[group] += 1;
            // The writer's statement for a plain message (commit.rs).
            tx.prepare_cached(
                "INSERT INTO messages
                     (conversation_id, seq, sender_id, client_id, body, sent_at, attachment,
                      reply_to, action, withheld_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, NULL, NULL)
                 ON CONFLICT (client_id, sender_id) DO NOTHING",
            )
            .expect("prepare")
            .execute(params![
                group,
                seqs[group],
                sender,
                Uuid::now_v7().to_string(),
                format!("message {n} of batch {batch}"),
                natter_server::now_millis(),
            ])
            .expect("insert");
        }
        let mut counter = tx
            .prepare_cached("UPDATE conversations SET last_seq = ?2 WHERE id = ?1")
            .expect("prepare");
        for (group, seq) in seqs.iter().enumerate().skip(1) {
            counter.execute(params![group, seq]).expect("counter");
        }
        drop(counter);
        tx.commit().expect("commit");
    }
    (thread_cpu_nanos() - started) as f64 / 1000.0 / MESSAGES as f64
}

/// CPU time this thread has run, from the scheduler's own account.
fn thread_cpu_nanos() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|stat| stat.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat")
}
