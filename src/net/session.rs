//! The reconnecting layer: keeps one socket open for as long as the user is
//! logged in, and says honestly how that is going.
//!
//! The socket's own health decides whether we are online: `navigator.onLine`
//! and the browser's `online` event only prompt an early retry. After every
//! (re)connect the session says `hello` with the host's cursors, whether the
//! tab is on screen, and resends the host's outbox, which the server
//! deduplicates by client id.

use futures::channel::mpsc::UnboundedReceiver;
use futures::{FutureExt, StreamExt};
use gloo_timers::future::{IntervalStream, TimeoutFuture};
use natter_protocol::{close, ClientFrame, Millis, ServerFrame};

use super::backoff::Backoff;
use super::http::Api;
use super::socket::{Incoming, Socket, SocketError};

/// How often the client pings, and how long silence may last before the
/// socket is taken for dead: a dead connection is noticed within ~30 s.
const PING_EVERY_MS: u32 = 10_000;
const SILENCE_LIMIT_MS: f64 = 25_000.0;
/// The most frames handed to the host at once.
const MAX_BATCH: usize = 500;
/// After a probe, how long the server has to answer.
const PROBE_LIMIT_MS: f64 = 4_000.0;
/// How long a socket may take to open.
const OPEN_LIMIT_MS: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConnectionStatus {
    /// Opening a socket; `offline_since` is set when this is a retry after
    /// the connection was lost.
    Connecting {
        offline_since: Option<Millis>,
    },
    Online,
    /// No connection since `since`; the next attempt is at `retry_at`.
    Offline {
        since: Millis,
        retry_at: Millis,
    },
}

/// What the session asks of the rest of the app. The client is
/// single-threaded, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// The `hello` to open with, carrying the cursors.
    fn hello(&self) -> ClientFrame;
    /// Whether this tab is on screen (said after `hello`: the server pushes
    /// to this person's devices only while none is).
    fn on_screen(&self) -> bool;
    /// Messages waiting to be sent, in order.
    fn outbox(&self) -> Vec<ClientFrame>;
    /// Takes in server frames, in order; returns frames to send in reply
    /// (receipts).
    async fn receive(&self, frames: Vec<ServerFrame>) -> Vec<ClientFrame>;
    fn status(&self, status: ConnectionStatus);
}

/// Asks of a running session.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send this frame if connected. Messages need not wait for a connection:
    /// they are in the outbox, which is resent on every connect.
    Send(ClientFrame),
    /// Skip the wait and try to connect now.
    RetryNow,
    /// The browser thinks the network went away: check the socket now
    /// rather than at the next heartbeat.
    Probe,
    Stop,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Stopped,
    /// The server no longer knows this session: log in again.
    LoggedOut,
    /// The server speaks a newer protocol: reload the app.
    Outdated,
}

/// Runs until stopped, logged out or outdated.
pub async fn run(
    url: String,
    api: Api,
    host: impl Host,
    mut commands: UnboundedReceiver<Command>,
) -> End {
    let mut backoff = Backoff::default();
    let mut offline_since: Option<Millis> = None;
    loop {
        host.status(ConnectionStatus::Connecting { offline_since });
        // "Retry now" during an attempt that has not been welcomed ends it
        // and tries again at once, not after the backoff's wait.
        let mut retry_asked = false;
        match connected(&url, &host, &mut commands, &mut backoff, &mut retry_asked).await {
            Outcome::End(end) => return end,
            Outcome::Dropped { welcomed: true } => offline_since = None,
            Outcome::Dropped { welcomed: false } => {
                if session_is_gone(&api).await {
                    return End::LoggedOut;
                }
                if retry_asked {
                    offline_since.get_or_insert_with(now);
                    continue;
                }
            }
        }
        let since = *offline_since.get_or_insert_with(now);
        let delay = backoff.next_delay_ms(js_sys::Math::random());
        host.status(ConnectionStatus::Offline {
            since,
            retry_at: now() + Millis::from(delay),
        });
        let mut timer = TimeoutFuture::new(delay).fuse();
        loop {
            futures::select! {
                () = timer => break,
                command = commands.next() => match command {
                    Some(Command::RetryNow) => break,
                    Some(Command::Send(_) | Command::Probe) => {}
                    Some(Command::Stop) | None => return End::Stopped,
                },
            }
        }
    }
}

enum Outcome {
    End(End),
    /// The socket closed or failed; `welcomed` tells whether it had got as
    /// far as the server's `welcome`.
    Dropped {
        welcomed: bool,
    },
}

async fn connected(
    url: &str,
    host: &impl Host,
    commands: &mut UnboundedReceiver<Command>,
    backoff: &mut Backoff,
    retry_asked: &mut bool,
) -> Outcome {
    let dropped = |welcomed| Outcome::Dropped { welcomed };
    let Ok(mut socket) = Socket::open(url) else {
        return dropped(false);
    };
    match opening(&mut socket, host, commands).await {
        // Read now, not before opening: a change while it opened was not
        // sent (commands wait meanwhile).
        Opening::Open => {
            let visible = ClientFrame::Visible {
                visible: host.on_screen(),
            };
            if socket.send(&visible).await.is_err() {
                return dropped(false);
            }
        }
        Opening::Failed => return dropped(false),
        Opening::Abandoned { retry } => {
            *retry_asked = retry;
            socket.close().await;
            return dropped(false);
        }
        Opening::Stop => {
            socket.close().await;
            return Outcome::End(End::Stopped);
        }
    }
    let mut welcomed = false;
    let mut last_heard = now() as f64;
    // When set, the socket must have been heard from by then.
    let mut probe_deadline: Option<f64> = None;
    let mut pings = IntervalStream::new(PING_EVERY_MS).fuse();
    let mut nonce = 0u64;
    loop {
        let event = {
            let incoming = socket.next().fuse();
            let command = commands.next().fuse();
            let probe = probe_timer(probe_deadline).fuse();
            futures::pin_mut!(incoming, command, probe);
            futures::select! {
                incoming = incoming => Event::Incoming(incoming),
                command = command => Event::Command(command),
                _ = pings.next() => Event::Tick,
                () = probe => Event::Tick,
            }
        };
        match event {
            Event::Incoming(Ok(Incoming::Frame(frame))) => {
                last_heard = now() as f64;
                probe_deadline = None;
                // Whatever else has already arrived is taken in one go: one
                // state update and one cache write for a whole replay page.
                let mut frames = vec![*frame];
                let mut ended = None;
                while frames.len() < MAX_BATCH {
                    match socket.next_ready() {
                        Some(Ok(Incoming::Frame(frame))) => frames.push(*frame),
                        Some(Ok(Incoming::Unreadable(err))) => {
                            web_sys::console::warn_1(&err.to_string().into());
                        }
                        Some(Err(err)) => {
                            ended = Some(err);
                            break;
                        }
                        None => break,
                    }
                }
                if frames
                    .iter()
                    .any(|f| matches!(f, ServerFrame::Welcome { .. }))
                {
                    welcomed = true;
                    backoff.reset();
                    host.status(ConnectionStatus::Online);
                }
                let replies = host.receive(frames).await;
                if let Some(err) = ended {
                    return closed(err, welcomed);
                }
                for reply in replies {
                    if socket.send(&reply).await.is_err() {
                        return dropped(welcomed);
                    }
                }
            }
            Event::Incoming(Ok(Incoming::Unreadable(err))) => {
                last_heard = now() as f64;
                web_sys::console::warn_1(&err.to_string().into());
            }
            Event::Incoming(Err(SocketError::Closed { code, .. }))
                if code == close::SESSION_ENDED =>
            {
                return Outcome::End(End::LoggedOut);
            }
            Event::Incoming(Err(SocketError::Closed { code, .. }))
                if code == close::UNSUPPORTED_VERSION =>
            {
                return Outcome::End(End::Outdated);
            }
            Event::Incoming(Err(_)) => return dropped(welcomed),
            Event::Command(Some(Command::Send(frame))) => {
                if socket.send(&frame).await.is_err() {
                    return dropped(welcomed);
                }
            }
            // An attempt not yet welcomed may be stalled (a network that
            // hangs rather than refuses): asked to retry, start afresh.
            // Nothing is lost: the outbox goes again with the next hello.
            Event::Command(Some(Command::RetryNow)) if !welcomed => {
                socket.close().await;
                *retry_asked = true;
                return dropped(false);
            }
            Event::Command(Some(Command::RetryNow)) => {}
            Event::Command(Some(Command::Probe)) => {
                nonce += 1;
                if socket.send(&ClientFrame::Ping { nonce }).await.is_err() {
                    return dropped(welcomed);
                }
                probe_deadline = Some(now() as f64 + PROBE_LIMIT_MS);
            }
            Event::Command(Some(Command::Stop) | None) => {
                socket.close().await;
                return Outcome::End(End::Stopped);
            }
            Event::Tick => {
                let probe_failed = probe_deadline.is_some_and(|deadline| now() as f64 > deadline);
                if probe_failed || now() as f64 - last_heard > SILENCE_LIMIT_MS {
                    socket.close().await;
                    return dropped(welcomed);
                }
                nonce += 1;
                if socket.send(&ClientFrame::Ping { nonce }).await.is_err() {
                    return dropped(welcomed);
                }
            }
        }
    }
}

/// How opening a socket ended.
enum Opening {
    /// `hello` and the outbox are on their way.
    Open,
    Failed,
    /// Not open in time, or the user asked to retry: `retry` when asked.
    Abandoned {
        retry: bool,
    },
    Stop,
}

/// Sends `hello` and the outbox once the socket opens. A network can hang
/// rather than refuse: the opening gives up after [`OPEN_LIMIT_MS`], and
/// "Retry now" or a stop do not wait for it.
async fn opening(
    socket: &mut Socket,
    host: &impl Host,
    commands: &mut UnboundedReceiver<Command>,
) -> Opening {
    let hello = host.hello();
    let outbox = host.outbox();
    let sent = async {
        socket.send(&hello).await?;
        for frame in &outbox {
            socket.send(frame).await?;
        }
        Ok::<(), SocketError>(())
    }
    .fuse();
    let deadline = TimeoutFuture::new(OPEN_LIMIT_MS).fuse();
    futures::pin_mut!(sent, deadline);
    loop {
        futures::select! {
            result = sent => {
                return match result {
                    Ok(()) => Opening::Open,
                    Err(_) => Opening::Failed,
                };
            }
            () = deadline => return Opening::Abandoned { retry: false },
            command = commands.next() => match command {
                Some(Command::RetryNow) => return Opening::Abandoned { retry: true },
                Some(Command::Stop) | None => return Opening::Stop,
                // Messages are in the outbox, sent once open; probes wait.
                Some(Command::Send(_) | Command::Probe) => {}
            },
        }
    }
}

/// What a closed or failed socket means for the session.
fn closed(err: SocketError, welcomed: bool) -> Outcome {
    match err {
        SocketError::Closed { code, .. } if code == close::SESSION_ENDED => {
            Outcome::End(End::LoggedOut)
        }
        SocketError::Closed { code, .. } if code == close::UNSUPPORTED_VERSION => {
            Outcome::End(End::Outdated)
        }
        _ => Outcome::Dropped { welcomed },
    }
}

enum Event {
    Incoming(Result<Incoming, SocketError>),
    Command(Option<Command>),
    Tick,
}

/// Resolves when the probe deadline passes (never without one).
async fn probe_timer(deadline: Option<f64>) {
    match deadline {
        Some(deadline) => {
            let wait = (deadline - now() as f64).max(0.0) as u32;
            TimeoutFuture::new(wait + 1).await;
        }
        None => futures::future::pending().await,
    }
}

/// Whether a failed connection failed because the session is gone (the
/// upgrade was refused with 401, which browsers do not show to scripts).
async fn session_is_gone(api: &Api) -> bool {
    matches!(api.session().await, Ok(None))
}

pub fn now() -> Millis {
    js_sys::Date::now() as Millis
}
