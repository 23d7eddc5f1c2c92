//! The server's log lines: each starts with `node=<id>`, the random id this
//! process has among a cluster's nodes, so that the lines of several nodes
//! collected in one place still say where they come from.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;

/// A log line format that puts the node's id before what `F` writes.
pub struct Tagged<F> {
    node: String,
    inner: F,
}

impl<F> Tagged<F> {
    pub fn new(node: u64, inner: F) -> Self {
        Tagged {
            node: format!("{node:016x}"),
            inner,
        }
    }
}

impl<S, N, F> FormatEvent<S, N> for Tagged<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "node={} ", self.node)?;
        self.inner.format_event(ctx, writer, event)
    }
}
