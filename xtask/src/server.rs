//! `natter-server` processes: the one `run` hands over to, and the ones the
//! browser tests talk to.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::{describe, Result, XtaskError};

/// Replaces this process with the server, so that Ctrl-C reaches it directly
/// and it shuts down gracefully.
#[cfg(unix)]
pub fn exec(mut command: Command) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let shown = describe(&command);
    let source = command.exec();
    Err(XtaskError::Spawn {
        command: shown,
        source,
    })
}

#[cfg(not(unix))]
pub fn exec(mut command: Command) -> Result<()> {
    crate::check(&mut command)
}

/// A free loopback port, as chosen by the kernel.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| XtaskError::Spawn {
        command: "bind 127.0.0.1:0".to_owned(),
        source,
    })?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|source| XtaskError::Spawn {
            command: "local_addr".to_owned(),
            source,
        })
}

/// A server started for tests; killed when dropped.
pub struct Running {
    child: Child,
    pub port: u16,
}

impl Running {
    /// Starts `binary` on `port` with a data directory under `data` and waits
    /// until it accepts connections.
    pub fn start(binary: &Path, port: u16, data: &Path, extra: &[&str]) -> Result<Self> {
        let mut command = Command::new(binary);
        command
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data)
            .arg("--dist-dir")
            .arg(data.join("no-client"))
            .args(extra);
        let shown = describe(&command);
        let child = command.spawn().map_err(|source| XtaskError::Spawn {
            command: shown.clone(),
            source,
        })?;
        let running = Running { child, port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                return Err(XtaskError::Setup(format!(
                    "`{shown}` did not start listening"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(running)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Already exited is fine: there is nothing left to stop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
