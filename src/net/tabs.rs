//! A channel between this app's tabs in the same browser, over
//! `BroadcastChannel`, so that what one tab queues the others show at once,
//! even offline. It carries text; what the text means is up to the caller.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

pub struct TabChannel {
    channel: BroadcastChannel,
    /// Kept alive for as long as the channel listens.
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl TabChannel {
    /// Joins the channel `name`; `on_text` gets every text another tab posts
    /// to it. `None` where the browser has no `BroadcastChannel`.
    pub fn open(name: &str, on_text: impl Fn(String) + 'static) -> Option<Self> {
        let channel = BroadcastChannel::new(name).ok()?;
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                on_text(text);
            }
        });
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(TabChannel {
            channel,
            _listener: listener,
        })
    }

    pub fn post(&self, text: &str) {
        // A tab closing at the same moment can make this fail; the others
        // then learn of the change from the server instead.
        let _ = self.channel.post_message(&text.into());
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
