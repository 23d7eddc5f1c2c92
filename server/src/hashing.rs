//! A bounded pool for password hashing. Argon2 takes 19 MiB and tens of
//! milliseconds per hash, so at most one hash per core runs at once, a few
//! more may wait, and beyond that the answer is "busy, try again" instead
//! of a login storm stalling everyone's messages.
//!
//! Hashes run on threads of their own, one per place, so the memory they
//! leave with the allocator stays with those few threads (on a shared
//! blocking pool every thread that ever hashed would keep 19 MiB).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

type Job = Box<dyn FnOnce() + Send>;

pub struct Hashing {
    running: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    jobs: mpsc::Sender<Job>,
}

/// The pool is full: try again in a moment.
#[derive(Debug, thiserror::Error)]
#[error("too many passwords being checked at once")]
pub struct Busy;

impl Default for Hashing {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Hashing::new(cores, 4 * cores)
    }
}

/// One place in the queue, given back however the wait ends (a client
/// that hangs up while waiting drops it).
struct Place<'a>(&'a AtomicUsize);

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hashing {
    /// A pool running `at_once` hashes at a time, with `max_waiting` more
    /// waiting. Its threads end when it is dropped.
    pub fn new(at_once: usize, max_waiting: usize) -> Self {
        let at_once = at_once.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..at_once {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("natter-hash-{n}"))
                .spawn(move || work_through(&queue));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start a hashing thread");
            }
        }
        Hashing {
            running: Arc::new(Semaphore::new(at_once)),
            waiting: AtomicUsize::new(0),
            max_waiting,
            jobs,
        }
    }

    /// Runs `work` (a hash or a verification) when a place is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let permit = self.wait_turn().await?;
        let (done, result) = oneshot::channel();
        // The permit goes with the work: a client that hangs up mid-hash
        // does not free its place before the hash is done.
        let job: Job = Box::new(move || {
            let _permit = permit;
            let _ = done.send(work());
        });
        self.jobs.send(job).map_err(|_| Busy)?;
        result.await.map_err(|_| Busy)
    }

    async fn wait_turn(&self) -> Result<OwnedSemaphorePermit, Busy> {
        let _place = Place(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            return Err(Busy);
        }
        self.running.clone().acquire_owned().await.map_err(|_| Busy)
    }
}

/// A hashing thread: takes jobs until the pool is dropped.
fn work_through(queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return;
        };
        // A job that panics loses its answer (the caller hears "busy"),
        // not the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_keeps_its_core_when_its_client_hangs_up() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let pool = Hashing::new(1, 4);
        let hashing = Arc::new(AtomicBool::new(false));
        let first = hashing.clone();
        let hung_up = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            pool.run(move || {
                first.store(true, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(300));
                first.store(false, Ordering::SeqCst);
            }),
        )
        .await;
        assert!(hung_up.is_err(), "the first hash was still running");
        let second = hashing.clone();
        let overlapped = pool
            .run(move || second.load(Ordering::SeqCst))
            .await
            .unwrap();
        assert!(!overlapped, "two hashes ran at once on a pool of one");
    }

    #[tokio::test]
    async fn a_client_that_hangs_up_while_waiting_gives_its_place_back() {
        let pool = std::sync::Arc::new(Hashing::new(1, 1));
        let busy = pool.clone();
        let holder = tokio::spawn(async move {
            busy.run(|| std::thread::sleep(std::time::Duration::from_millis(300)))
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // One waits and hangs up; past the queue of one, the next is busy.
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), pool.run(|| ()));
        let (waited, refused) = tokio::join!(waited, async {
            tokio::task::yield_now().await;
            pool.run(|| ()).await
        });
        assert!(waited.is_err());
        assert!(refused.is_err());
        // Its place came back: the next one waits its turn and is served.
        assert!(pool.run(|| ()).await.is_ok());
        holder.await.unwrap().unwrap();
    }
}
