//! The reference: a raw tokio-tungstenite relay with nothing of Natter's
//! work (no JSON, no storage, no rules). A socket joins a group with the
//! query `?group=G`; every text frame it sends is forwarded to the other
//! members of its group, and a short ack goes back to the sender, so its
//! load generator can keep the same window as against Natter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

type Members = Arc<Mutex<HashMap<u32, Vec<(u64, mpsc::UnboundedSender<Message>)>>>>;

/// Serves on `listener` forever.
pub async fn serve(listener: TcpListener) {
    let members: Members = Arc::default();
    let mut next = 0u64;
    while let Ok((tcp, _)) = listener.accept().await {
        let _ = tcp.set_nodelay(true);
        next += 1;
        tokio::spawn(connection(tcp, next, members.clone()));
    }
}

async fn connection(tcp: tokio::net::TcpStream, id: u64, members: Members) {
    let mut group = 0u32;
    // tungstenite's callback signature, whose error is a whole response.
    #[allow(clippy::result_large_err)]
    let pick_group = |request: &Request, response: Response| {
        group = request
            .uri()
            .query()
            .and_then(|query| query.strip_prefix("group="))
            .and_then(|g| g.parse().ok())
            .unwrap_or(0);
        Ok(response)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, pick_group).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (outbox, mut queued) = mpsc::unbounded_channel::<Message>();
    members
        .lock()
        .unwrap()
        .entry(group)
        .or_default()
        .push((id, outbox.clone()));
    // Writes everything queued, flushing once per batch.
    let writer = tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            if sink.feed(message).await.is_err() {
                return;
            }
            while let Ok(message) = queued.try_recv() {
                if sink.feed(message).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        if let Message::Text(text) = message {
            let map = members.lock().unwrap();
            for (member, queue) in map.get(&group).into_iter().flatten() {
                if *member != id {
                    let _ = queue.send(Message::Text(text.clone()));
                }
            }
            let _ = outbox.send(Message::text("ack"));
        }
    }
    members
        .lock()
        .unwrap()
        .entry(group)
        .or_default()
        .retain(|(member, _)| *member != id);
    writer.abort();
}
