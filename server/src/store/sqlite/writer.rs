//! Where SQLite work runs: one thread owns the only write connection and
//! takes jobs in order; reads borrow one of a few read-only connections on
//! tokio's blocking pool.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{oneshot, Semaphore};

use crate::store::StoreError;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Lost(&'static str);

/// The write connection's thread. It ends when the last handle is dropped,
/// after the jobs already queued.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub fn spawn(mut conn: Connection) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    // A panicking job has rolled its transaction back (they
                    // roll back on drop); the connection is still good.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                }
            })
            .map_err(StoreError::backend)?;
        Ok(Writer { jobs })
    }

    /// Runs `job` on the write connection, after the jobs before it.
    pub async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Box::new(move |conn| {
                // The caller may have stopped waiting; the work is done
                // either way.
                let _ = answer.send(job(conn));
            }))
            .map_err(|_| StoreError::backend(Lost("the database writer has stopped")))?;
        answered
            .await
            .map_err(|_| StoreError::backend(Lost("a database write was abandoned")))?
    }
}

/// Read-only connections, opened as needed up to a limit.
pub struct Readers {
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Semaphore,
    open: Arc<dyn Fn() -> Result<Connection, StoreError> + Send + Sync>,
}

impl Readers {
    pub fn new(
        limit: usize,
        open: impl Fn() -> Result<Connection, StoreError> + Send + Sync + 'static,
    ) -> Self {
        Readers {
            idle: Arc::new(Mutex::new(Vec::with_capacity(limit))),
            permits: Semaphore::new(limit),
            open: Arc::new(open),
        }
    }

    pub async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::backend(Lost("the database readers are closed")))?;
        let idle = self.idle.clone();
        let open = self.open.clone();
        tokio::task::spawn_blocking(move || {
            let taken = idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match taken {
                Some(conn) => conn,
                None => open()?,
            };
            let result = job(&conn);
            idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        })
        .await
        .map_err(StoreError::backend)?
    }
}
