//! Media in a bubble: a photo (its thumbnail at once, the full picture in a
//! viewer), a video that streams, a voice message that plays.

use leptos::prelude::*;
use natter_protocol::{Attachment, MediaKind};

/// The photo open in the viewer, shared so that Esc can close the viewer
/// before anything else.
#[derive(Clone, Copy)]
pub struct Viewer(pub RwSignal<Option<Attachment>>);

fn media_url(attachment: &Attachment) -> String {
    format!("/api/media/{}", attachment.id)
}

/// "0:07", "12:41".
pub fn duration_label(ms: u32) -> String {
    let seconds = ms.div_ceil(1000);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[component]
pub fn AttachmentView(attachment: Attachment) -> impl IntoView {
    let url = media_url(&attachment);
    match attachment.kind {
        MediaKind::Image => {
            let viewer = expect_context::<Viewer>();
            let preview = attachment.thumbnail.clone().unwrap_or_else(|| url.clone());
            let (width, height) = (attachment.width, attachment.height);
            view! {
                <button
                    class="attachment photo"
                    aria-label="Open photo"
                    on:click=move |_| viewer.0.set(Some(attachment.clone()))
                >
                    <img src=preview alt="Photo" width=width height=height />
                </button>
            }
            .into_any()
        }
        MediaKind::Video => view! {
            <video
                class="attachment video"
                controls
                preload="none"
                poster=attachment.thumbnail.clone()
                src=url
                aria-label="Video"
            ></video>
        }
        .into_any(),
        MediaKind::Voice => {
            let length = attachment.duration_ms.map(duration_label);
            view! {
                <span class="attachment voice">
                    <audio controls preload="none" src=url aria-label="Voice message"></audio>
                    <span class="voice-length">{length}</span>
                </span>
            }
            .into_any()
        }
    }
}

/// The full-size photo over everything; closes with Esc, the close button
/// or a click outside the picture.
#[component]
pub fn PhotoViewer() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    move || {
        viewer.0.get().map(|attachment| {
            view! {
                <div
                    class="viewer"
                    role="dialog"
                    aria-modal="true"
                    aria-label="Photo"
                    on:click=move |_| viewer.0.set(None)
                >
                    <img src=media_url(&attachment) alt="Photo" on:click=|ev| ev.stop_propagation() />
                    <button class="viewer-close" aria-label="Close photo" on:click=move |_| viewer.0.set(None)>
                        "×"
                    </button>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration_label(0), "0:00");
        assert_eq!(duration_label(7_001), "0:08");
        assert_eq!(duration_label(761_000), "12:41");
    }
}
