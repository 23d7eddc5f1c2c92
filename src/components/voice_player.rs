//! A voice message: play/pause, its waveform (which fills as it plays and
//! seeks on click or with the arrow keys), the time, and 1× / 1.5× / 2×.
//! It plays the copy kept on this device when there is one.

use leptos::html::Audio;
use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::Attachment;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use super::attachment::duration_label;
use crate::state::{ChatStore, MediaSource};

/// Bars drawn for the waveform.
const BARS: usize = 40;
const SPEEDS: [(f64, &str); 3] = [(1.0, "1×"), (1.5, "1.5×"), (2.0, "2×")];
/// How far an arrow key moves, in milliseconds.
const STEP_MS: f64 = 5_000.0;

/// `peaks` resampled to `count` bar heights (percent, never below a thin
/// line so that silence still shows).
pub fn bars(peaks: &[u8], count: usize) -> Vec<u8> {
    (0..count)
        .map(|i| {
            let peak = if peaks.is_empty() {
                0
            } else {
                let start = i * peaks.len() / count;
                let end = ((i + 1) * peaks.len() / count).max(start + 1);
                peaks[start..end.min(peaks.len())]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0)
            };
            (u32::from(peak) * 100 / 255).max(8) as u8
        })
        .collect()
}

#[component]
pub fn VoicePlayer(attachment: Attachment, pending: Option<Uuid>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let audio = NodeRef::<Audio>::new();
    let source = RwSignal::new(None::<MediaSource>);
    let playing = RwSignal::new(false);
    let position_ms = RwSignal::new(0.0_f64);
    let speed = RwSignal::new(0_usize);
    let duration_ms = f64::from(attachment.duration_ms.unwrap_or(0));
    let heights = bars(&attachment.waveform, BARS);

    let wanted = attachment.clone();
    spawn_local(async move {
        let found = match pending {
            Some(client_id) => store.upload_source(client_id).await,
            None => Some(store.media_source(&wanted, true).await),
        };
        source.set(found);
    });
    on_cleanup(move || {
        if let Some(source) = source.get_untracked() {
            source.release();
        }
    });

    let toggle = move |_| {
        let Some(audio) = audio.get_untracked() else {
            return;
        };
        if audio.paused() {
            audio.set_playback_rate(SPEEDS[speed.get_untracked()].0);
            // A refusal (no file yet) leaves the button as it was.
            let _ = audio.play();
        } else {
            let _ = audio.pause();
        }
    };
    let seek_to = move |ms: f64| {
        if let Some(audio) = audio.get_untracked() {
            let ms = ms.clamp(0.0, duration_ms);
            audio.set_current_time(ms / 1000.0);
            position_ms.set(ms);
        }
    };
    let seek_click = move |ev: leptos::ev::MouseEvent| {
        let Some(target) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let rect = target.get_bounding_client_rect();
        if rect.width() > 0.0 {
            let fraction = (f64::from(ev.client_x()) - rect.left()) / rect.width();
            seek_to(fraction * duration_ms);
        }
    };
    let seek_key = move |ev: leptos::ev::KeyboardEvent| {
        let delta = match ev.key().as_str() {
            "ArrowRight" => STEP_MS,
            "ArrowLeft" => -STEP_MS,
            _ => return,
        };
        ev.prevent_default();
        seek_to(position_ms.get_untracked() + delta);
    };
    let next_speed = move |_| {
        speed.update(|s| *s = (*s + 1) % SPEEDS.len());
        if let Some(audio) = audio.get_untracked() {
            audio.set_playback_rate(SPEEDS[speed.get_untracked()].0);
        }
    };
    let played = move || {
        if duration_ms > 0.0 {
            position_ms.get() / duration_ms
        } else {
            0.0
        }
    };
    let count = heights.len();

    view! {
        <div class="attachment voice" role="group" aria-label="Voice message">
            <button
                class="voice-play"
                aria-label=move || if playing.get() { "Pause" } else { "Play voice message" }
                disabled=move || source.with(Option::is_none)
                on:click=toggle
            >
                {move || {
                    if playing.get() {
                        view! {
                            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                                <path d="M7 5h3v14H7zM14 5h3v14h-3z" fill="currentColor" />
                            </svg>
                        }
                            .into_any()
                    } else {
                        view! {
                            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                                <path d="M8 5v14l11-7z" fill="currentColor" />
                            </svg>
                        }
                            .into_any()
                    }
                }}
            </button>
            <div
                class="waveform"
                role="slider"
                tabindex="0"
                aria-label="Position"
                aria-valuemin="0"
                aria-valuemax=(duration_ms / 1000.0).round() as u32
                aria-valuenow=move || (position_ms.get() / 1000.0).floor() as u32
                aria-valuetext=move || duration_label(position_ms.get() as u32)
                on:click=seek_click
                on:keydown=seek_key
            >
                {heights
                    .into_iter()
                    .enumerate()
                    .map(|(i, height)| {
                        view! {
                            <span
                                class="wave-bar"
                                class:played=move || (i as f64 + 0.5) / count as f64 <= played()
                                style:height=format!("{height}%")
                            ></span>
                        }
                    })
                    .collect_view()}
            </div>
            <span class="voice-time">
                {move || {
                    let shown = if playing.get() || position_ms.get() > 0.0 {
                        position_ms.get()
                    } else {
                        duration_ms
                    };
                    duration_label(shown as u32)
                }}
            </span>
            <button class="voice-speed" aria-label="Playback speed" on:click=next_speed>
                {move || SPEEDS[speed.get()].1}
            </button>
            <audio
                node_ref=audio
                preload="metadata"
                src=move || source.with(|s| s.as_ref().map(|s| s.url().to_owned()))
                on:play=move |_| playing.set(true)
                on:pause=move |_| playing.set(false)
                on:timeupdate=move |_| {
                    if let Some(audio) = audio.get_untracked() {
                        position_ms.set(audio.current_time() * 1000.0);
                    }
                }
                on:ended=move |_| {
                    playing.set(false);
                    position_ms.set(0.0);
                }
            ></audio>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waveforms_are_resampled_to_the_bars() {
        assert_eq!(bars(&[255, 0], 4), vec![100, 100, 8, 8]);
        assert_eq!(bars(&[0, 255, 0, 128], 2), vec![100, 50]);
        assert_eq!(bars(&[], 3), vec![8, 8, 8]);
    }
}
