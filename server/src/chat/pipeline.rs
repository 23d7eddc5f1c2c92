//! The write pipeline: every write that takes a place in a conversation's
//! order (messages, receipts, group changes), from every connection, goes
//! through one queue. One task takes what has gathered, up to
//! [`MAX_BATCH`], checks each write against the membership it will be
//! committed on, has the store commit the batch as one transaction, and
//! then, in commit order, publishes what was committed and answers each
//! caller. While one batch commits the next one gathers, so under load a
//! single fsync covers hundreds of messages, and at rest a message waits
//! for nothing but its own commit.
//!
//! Publishing in commit order is what lets devices take messages live
//! without holes; answering after the commit is what makes an ack mean
//! "durable".

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use natter_protocol::{ConversationId, ReceiptKind, Seq, ServerFrame, UserId};
use tokio::sync::{mpsc, oneshot};

use super::push::Pusher;
use super::roster::Roster;
use super::send::{self, Sent};
use super::ChatError;
use crate::hub::{DeviceId, Event, FrameKind, Hub};
use crate::media::MediaStorage;
use crate::metrics::METRICS;
use crate::store::{
    GroupTarget, GroupWrite, GroupWritten, Membership, NewMessage, Store, StoreError, Write,
    Written,
};

/// The most writes committed in one transaction.
pub const MAX_BATCH: usize = 1024;
/// How many writes may wait; callers wait for room beyond it.
const QUEUE: usize = 16 * MAX_BATCH;
/// How often a write is retried when the membership changed under it.
const MAX_RETRIES: u8 = 3;

/// What the pipeline is asked to write.
pub enum Work {
    Send {
        message: NewMessage,
        origin: Option<DeviceId>,
    },
    Receipt {
        user: UserId,
        conversation: ConversationId,
        kind: ReceiptKind,
        seq: Seq,
        /// Members who must not hear of it (blocks, either way).
        apart: Vec<UserId>,
    },
    /// Decided by the group rules on the membership at the write's epoch.
    Group {
        write: GroupWrite,
        /// The members before the change, who hear of it too.
        before: Vec<UserId>,
    },
    /// A member accepts the request their seat is.
    Accept {
        user: UserId,
        conversation: ConversationId,
    },
    /// Writes nothing: answered once everything queued before it is
    /// committed (at shutdown, say).
    Settle,
}

/// What the pipeline answers.
#[derive(Debug)]
pub enum Done {
    Sent(Sent),
    Receipt,
    /// Boxed: a whole conversation, next to a few numbers.
    Group(Box<GroupWritten>),
    Accepted(Arc<Membership>),
}

/// The answer to a queued write: resolves once its batch is committed.
pub type Ticket = oneshot::Receiver<Result<Done, PipelineError>>;

/// A write's outcome as its caller wants it, without boxing: ready at
/// once, or waiting for the pipeline.
pub struct Committed<T> {
    state: State<T>,
}

enum State<T> {
    Ready(Option<Result<T, ChatError>>),
    Waiting(Ticket, fn(Done) -> Result<T, ChatError>),
}

impl<T> Committed<T> {
    pub fn ready(outcome: Result<T, ChatError>) -> Self {
        Committed {
            state: State::Ready(Some(outcome)),
        }
    }

    /// Waits for `ticket`; `take` turns the answer into `T`.
    pub fn waiting(ticket: Ticket, take: fn(Done) -> Result<T, ChatError>) -> Self {
        Committed {
            state: State::Waiting(ticket, take),
        }
    }
}

impl<T: Unpin> Future for Committed<T> {
    type Output = Result<T, ChatError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            State::Ready(outcome) => Poll::Ready(
                outcome
                    .take()
                    .unwrap_or_else(|| Err(ChatError::internal(Stopped))),
            ),
            State::Waiting(ticket, take) => Pin::new(ticket).poll(cx).map(|answer| match answer {
                Ok(Ok(done)) => take(done),
                Ok(Err(PipelineError::Refused(err))) => Err(err),
                Ok(Err(PipelineError::Stale)) | Err(_) => Err(ChatError::internal(Stopped)),
            }),
        }
    }
}

struct Job {
    work: Work,
    retries: u8,
    reply: oneshot::Sender<Result<Done, PipelineError>>,
}

/// Why a write was not committed.
#[derive(Debug)]
pub enum PipelineError {
    /// For group writes: the membership changed; decide again.
    Stale,
    Refused(ChatError),
}

#[derive(Clone)]
pub struct Pipeline {
    jobs: mpsc::Sender<Job>,
}

impl Pipeline {
    /// Starts the pipeline's task; it ends when every handle is dropped.
    pub fn start(
        store: Arc<dyn Store>,
        hub: Arc<dyn Hub>,
        roster: Arc<Roster>,
        media: Arc<dyn MediaStorage>,
        push: Option<Arc<Pusher>>,
    ) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let committer = Committer {
            store,
            hub,
            roster,
            media,
            push,
        };
        tokio::spawn(committer.run(queue));
        Pipeline { jobs }
    }

    /// Queues `work`; the answer comes once it is committed (or refused).
    /// Writes are committed in the order they are queued.
    pub async fn queue(&self, work: Work) -> Result<Ticket, ChatError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            work,
            retries: 0,
            reply,
        };
        match self.jobs.try_send(job) {
            Ok(()) => Ok(answer),
            // Waiting for room is rare: its future is boxed, so that every
            // caller's state stays small.
            Err(mpsc::error::TrySendError::Full(job)) => {
                Box::pin(self.jobs.send(job))
                    .await
                    .map_err(|_| ChatError::internal(Stopped))?;
                Ok(answer)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(ChatError::internal(Stopped)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the write pipeline has stopped")]
pub struct Stopped;

struct Committer {
    store: Arc<dyn Store>,
    hub: Arc<dyn Hub>,
    roster: Arc<Roster>,
    media: Arc<dyn MediaStorage>,
    /// Told of each new message, to push it to those not looking.
    push: Option<Arc<Pusher>>,
}

/// A job with the write it became and, for messages and receipts, the
/// membership it was checked on, whose members hear of it.
struct Stamped {
    job: Job,
    write: Write,
    audience: Option<Arc<Membership>>,
}

impl Committer {
    async fn run(self, mut queue: mpsc::Receiver<Job>) {
        // Writes to retry (the membership changed under them), first and in
        // their order.
        let mut again: VecDeque<Job> = VecDeque::new();
        loop {
            if again.is_empty() {
                match queue.recv().await {
                    Some(job) => again.push_back(job),
                    None => return,
                }
            }
            gather(&mut queue, &mut again);
            let batch = take_batch(&mut again);
            let retry = self.commit(batch).await;
            for job in retry.into_iter().rev() {
                again.push_front(job);
            }
        }
    }

    /// Commits one batch; returns the jobs to try again.
    async fn commit(&self, batch: Vec<Job>) -> Vec<Job> {
        let (settles, batch): (Vec<Job>, Vec<Job>) = batch
            .into_iter()
            .partition(|job| matches!(job.work, Work::Settle));
        let mut retry = self.commit_writes(batch).await;
        if retry.is_empty() {
            for settle in settles {
                let _ = settle.reply.send(Ok(Done::Receipt));
            }
        } else {
            // Not settled until the retried writes are in.
            retry.extend(settles);
        }
        retry
    }

    async fn commit_writes(&self, batch: Vec<Job>) -> Vec<Job> {
        let mut stamped = Vec::with_capacity(batch.len());
        for job in batch {
            match self.stamp(job).await {
                Ok(ready) => stamped.push(ready),
                Err((job, err)) => {
                    let _ = job.reply.send(Err(PipelineError::Refused(err)));
                }
            }
        }
        if stamped.is_empty() {
            return Vec::new();
        }
        let writes: Vec<Write> = stamped.iter().map(|s| s.write.clone()).collect();
        let started = std::time::Instant::now();
        let count = writes.len();
        METRICS.batch_writes.observe(count as f64);
        let committed = self.store.commit(writes).await;
        tracing::trace!(
            writes = count,
            micros = started.elapsed().as_micros() as u64,
            "batch"
        );
        let results = match committed {
            Ok(results) => results,
            Err(err) => {
                tracing::error!(error = %err, "committing a batch failed");
                for s in stamped {
                    let _ = s
                        .job
                        .reply
                        .send(Err(PipelineError::Refused(ChatError::internal(Failed(
                            err.to_string(),
                        )))));
                }
                return Vec::new();
            }
        };
        let mut retry = Vec::new();
        for (s, result) in stamped.into_iter().zip(results) {
            match result {
                Ok(written) => {
                    let done = self.publish(&s, written);
                    let _ = s.job.reply.send(Ok(done));
                }
                Err(StoreError::Stale) => {
                    if let Some(id) = conversation_of(&s.job.work) {
                        self.roster.forget(id);
                    }
                    let mut job = s.job;
                    if matches!(job.work, Work::Group { .. }) {
                        let _ = job.reply.send(Err(PipelineError::Stale));
                    } else if job.retries < MAX_RETRIES {
                        job.retries += 1;
                        retry.push(job);
                    } else {
                        let _ = job
                            .reply
                            .send(Err(PipelineError::Refused(ChatError::internal(Failed(
                                "the conversation kept changing".into(),
                            )))));
                    }
                }
                Err(err) => {
                    let _ = s.job.reply.send(Err(PipelineError::Refused(err.into())));
                }
            }
        }
        retry
    }

    /// Turns a job into the write to commit, on the membership as it is
    /// now, or refuses it.
    async fn stamp(&self, job: Job) -> Result<Stamped, (Job, ChatError)> {
        let conversation = match &job.work {
            // Decided by the group rules on the epoch they saw.
            Work::Group { write, .. } => {
                let write = Write::Group(write.clone());
                return Ok(Stamped {
                    job,
                    write,
                    audience: None,
                });
            }
            Work::Accept { user, conversation } => {
                let write = Write::Accept {
                    user: *user,
                    conversation: *conversation,
                };
                return Ok(Stamped {
                    job,
                    write,
                    audience: None,
                });
            }
            Work::Send { message, .. } => message.conversation,
            Work::Receipt { conversation, .. } => *conversation,
            Work::Settle => return Err((job, ChatError::internal(Stopped))),
        };
        let membership = match self.roster.get(conversation).await {
            Ok(Some(membership)) => membership,
            Ok(None) => return Err((job, ChatError::NotAMember)),
            Err(err) => return Err((job, err.into())),
        };
        let write = match &job.work {
            Work::Send { message, .. } if send::may_send(&membership, message.sender) => {
                Write::Append {
                    message: message.clone(),
                    epoch: membership.epoch,
                }
            }
            Work::Receipt {
                user,
                conversation,
                kind,
                seq,
                ..
            } if membership.includes(*user) => Write::Advance {
                user: *user,
                conversation: *conversation,
                // Reading implies having the messages.
                delivered: Some(*seq),
                read: (*kind == ReceiptKind::Read).then_some(*seq),
            },
            _ => return Err((job, ChatError::NotAMember)),
        };
        Ok(Stamped {
            job,
            write,
            audience: Some(membership),
        })
    }

    /// Tells everyone concerned what was committed; returns the answer.
    fn publish(&self, stamped: &Stamped, written: Written) -> Done {
        let apart: &[UserId] = match &stamped.job.work {
            Work::Send { message, .. } => message.withheld_from.as_slice(),
            Work::Receipt { apart, .. } => apart,
            _ => &[],
        };
        let audience: Vec<UserId> = stamped
            .audience
            .as_ref()
            .map(|membership| membership.user_ids())
            .unwrap_or_default()
            .into_iter()
            .filter(|user| !apart.contains(user))
            .collect();
        match (&stamped.job.work, written) {
            (Work::Send { origin, .. }, Written::Appended(appended)) => {
                send::clean_up(&appended, &self.media, &self.store);
                let sent = Sent::of(&appended.message);
                if appended.fresh {
                    METRICS.sends.inc();
                    let message = Arc::new(appended.message);
                    if let (Some(push), Some(membership)) = (&self.push, &stamped.audience) {
                        push.committed(&message, membership, &audience);
                    }
                    self.hub
                        .publish(&audience, Event::message(message, *origin));
                }
                Done::Sent(sent)
            }
            (
                Work::Receipt {
                    user, conversation, ..
                },
                Written::Advanced(moved),
            ) => {
                for (kind, seq) in moved {
                    let frame = ServerFrame::Receipt {
                        conversation: *conversation,
                        user: *user,
                        kind,
                        seq,
                    };
                    self.hub.publish(
                        &audience,
                        Event::frame(*conversation, FrameKind::Receipt, &frame),
                    );
                }
                Done::Receipt
            }
            (Work::Group { before, write }, Written::Group(written)) => {
                send::remove_files(&written.removed_media, &self.media);
                let kept = self.roster.committed(written.membership.clone());
                super::groups::announce(&*self.hub, write, before, &kept.user_ids(), &written);
                Done::Group(Box::new(written))
            }
            (Work::Accept { .. }, Written::Accepted(membership)) => {
                Done::Accepted(self.roster.committed(membership))
            }
            (_, other) => {
                tracing::error!(?other, "a write was answered for another kind of write");
                Done::Receipt
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failed(String);

fn conversation_of(work: &Work) -> Option<ConversationId> {
    match work {
        Work::Send { message, .. } => Some(message.conversation),
        Work::Receipt { conversation, .. } | Work::Accept { conversation, .. } => {
            Some(*conversation)
        }
        Work::Settle => None,
        Work::Group { write, .. } => match write.target {
            GroupTarget::Existing { conversation, .. } => Some(conversation),
            GroupTarget::Create { .. } => None,
        },
    }
}

/// Moves what has been queued meanwhile into `waiting`, up to a batch.
fn gather(queue: &mut mpsc::Receiver<Job>, waiting: &mut VecDeque<Job>) {
    while waiting.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => waiting.push_back(job),
            Err(_) => break,
        }
    }
}

/// The next batch: up to [`MAX_BATCH`] jobs, ending after a group write so
/// that the writes after it are checked on the membership it made.
fn take_batch(waiting: &mut VecDeque<Job>) -> Vec<Job> {
    let mut batch = Vec::with_capacity(waiting.len().min(MAX_BATCH));
    while let Some(job) = waiting.pop_front() {
        let group = matches!(job.work, Work::Group { .. });
        batch.push(job);
        if group || batch.len() == MAX_BATCH {
            break;
        }
    }
    batch
}
