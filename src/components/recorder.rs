//! Recording a voice message: a red dot, the time so far, the input level,
//! Cancel and Send. Reaching the longest allowed length sends it.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::ConversationId;

use super::attachment::duration_label;
use crate::media::recorder::Recorder;
use crate::media::waveform;
use crate::state::ChatStore;

/// How often the time and level are redrawn, in milliseconds.
const TICK_MS: u32 = 100;

/// Records as soon as it is shown; `on_done` runs once the recording was
/// sent, cancelled or failed (and `notice` says why it failed).
#[component]
pub fn RecordingBar(
    id: ConversationId,
    notice: RwSignal<Option<String>>,
    #[prop(into)] on_done: Callback<()>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let recorder = StoredValue::new_local(None::<Recorder>);
    let ticker = StoredValue::new_local(None::<Interval>);
    let elapsed = RwSignal::new(0_u32);
    let level = RwSignal::new(0.0_f32);
    let sending = RwSignal::new(false);

    let send = move || {
        if sending.get_untracked() {
            return;
        }
        let Some(taken) = recorder.try_update_value(Option::take).flatten() else {
            return;
        };
        sending.set(true);
        ticker.set_value(None);
        let limits = store.uploads.limits.get_untracked();
        spawn_local(async move {
            match taken.finish(&limits).await {
                Ok(prepared) => store.send_media(id, prepared).await,
                Err(err) => notice.set(Some(err.to_string())),
            }
            on_done.run(());
        });
    };
    let cancel = move || {
        ticker.set_value(None);
        // Dropping the recorder stops the microphone.
        recorder.set_value(None);
        on_done.run(());
    };

    spawn_local(async move {
        match Recorder::start().await {
            Ok(started) => {
                recorder.set_value(Some(started));
                let limit = store.uploads.limits.get_untracked().voice_ms;
                ticker.set_value(Some(Interval::new(TICK_MS, move || {
                    let now =
                        recorder.with_value(|r| r.as_ref().map(|r| (r.elapsed_ms(), r.level())));
                    if let Some((ms, loudness)) = now {
                        elapsed.set(ms);
                        level.set(loudness);
                        if ms >= limit {
                            send();
                        }
                    }
                })));
            }
            Err(err) => {
                notice.set(Some(err.to_string()));
                on_done.run(());
            }
        }
    });
    on_cleanup(move || {
        ticker.set_value(None);
        recorder.set_value(None);
    });

    view! {
        <div class="recording" role="group" aria-label="Recording a voice message">
            <span class="recording-dot" aria-hidden="true"></span>
            <span class="recording-time" aria-live="off">{move || duration_label(elapsed.get() / 1000 * 1000)}</span>
            <meter
                class="recording-level"
                aria-label="Microphone level"
                min="0"
                max="100"
                value=move || (waveform::meter(level.get()) * 100.0).round() as u32
            ></meter>
            <button class="link-button danger" on:click=move |_| cancel() disabled=move || sending.get()>
                "Cancel"
            </button>
            <button
                class="send-button"
                aria-label="Send voice message"
                on:click=move |_| send()
                disabled=move || sending.get()
            >
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path d="M3 20.5 21 12 3 3.5l2.5 7.1L15 12l-9.5 1.4z" fill="currentColor" />
                </svg>
            </button>
        </div>
    }
}
