//! Media in a bubble: a photo (its thumbnail at once, the full picture in a
//! viewer), a video that streams, a voice message that plays. A file still
//! waiting for its upload shows from this device, with the upload's
//! progress and a cancel button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{Attachment, MediaKind};
use uuid::Uuid;

use super::voice_player::VoicePlayer;
use crate::media::geometry::{fit, THUMBNAIL_SIDE};
use crate::state::{ChatStore, MediaSource};

/// The photo open in the viewer, shared so that Esc can close the viewer
/// before anything else.
#[derive(Clone, Copy)]
pub struct Viewer(pub RwSignal<Option<Attachment>>);

/// "0:07", "12:41".
pub fn duration_label(ms: u32) -> String {
    let seconds = ms.div_ceil(1000);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// `attachment`, or while `pending` (the message's client id) its upload.
#[component]
pub fn AttachmentView(attachment: Attachment, pending: Option<Uuid>) -> impl IntoView {
    let media = match attachment.kind {
        MediaKind::Image => photo(attachment, pending.is_some()),
        MediaKind::Video => video(attachment, pending.is_some()),
        MediaKind::Voice => view! { <VoicePlayer attachment pending /> }.into_any(),
    };
    view! {
        {media}
        {pending.map(|client_id| view! { <UploadBar client_id /> })}
    }
}

fn photo(attachment: Attachment, pending: bool) -> AnyView {
    let viewer = expect_context::<Viewer>();
    let preview = attachment
        .thumbnail
        .clone()
        .unwrap_or_else(|| format!("/api/media/{}", attachment.id));
    // Drawn at the thumbnail's size, known before anything loads, so the
    // list does not jump.
    let (width, height) = match (attachment.width, attachment.height) {
        (Some(w), Some(h)) => {
            let (w, h) = fit(w, h, THUMBNAIL_SIDE);
            (Some(w), Some(h))
        }
        _ => (None, None),
    };
    view! {
        <button
            class="attachment photo"
            aria-label="Open photo"
            disabled=pending
            on:click=move |_| viewer.0.set(Some(attachment.clone()))
        >
            <img src=preview alt="Photo" width=width height=height />
        </button>
    }
    .into_any()
}

fn video(attachment: Attachment, pending: bool) -> AnyView {
    if pending {
        // Not on the server yet: the poster stands in for the player.
        return view! {
            <div class="attachment video pending">
                <img src=attachment.thumbnail alt="Video" />
            </div>
        }
        .into_any();
    }
    view! {
        <video
            class="attachment video"
            controls
            preload="none"
            poster=attachment.thumbnail.clone()
            src=format!("/api/media/{}", attachment.id)
            aria-label="Video"
        ></video>
    }
    .into_any()
}

/// How far the upload of `client_id` has got, and a way to stop it.
#[component]
fn UploadBar(client_id: Uuid) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    // In whole percent: the bar and its label change a hundred times at
    // most, and no float is ever formatted.
    let percent = Memo::new(move |_| {
        store.uploads.progress.with(|all| {
            all.get(&client_id)
                .map(|p| (p.fraction() * 100.0).round() as u32)
        })
    });
    let failed = Memo::new(move |_| {
        store.state.with(|state| {
            state
                .outbox
                .iter()
                .any(|o| o.client_id == client_id && o.failure.is_some())
        })
    });
    view! {
        <Show when=move || !failed.get()>
            <div class="upload">
                <progress
                    max="100"
                    value=move || percent.get().unwrap_or(0)
                    aria-label="Upload progress"
                ></progress>
                <span class="upload-label">
                    {move || match percent.get() {
                        Some(percent) => format!("Uploading {percent}%"),
                        None => "Waiting to upload".to_owned(),
                    }}
                </span>
                <button
                    class="link-button"
                    aria-label="Cancel upload"
                    on:click=move |_| store.cancel_upload(client_id)
                >
                    "Cancel"
                </button>
            </div>
        </Show>
    }
}

/// The full-size photo over everything; closes with Esc, the close button
/// or a click outside the picture. The thumbnail shows until the picture
/// has loaded, from this device when it keeps a copy.
#[component]
pub fn PhotoViewer() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let viewer = expect_context::<Viewer>();
    let source = RwSignal::new(None::<MediaSource>);
    Effect::new(move |_| {
        if let Some(old) = source.get_untracked() {
            old.release();
            source.set(None);
        }
        if let Some(attachment) = viewer.0.get() {
            spawn_local(async move {
                let found = store.media_source(&attachment, false).await;
                let still_open = viewer
                    .0
                    .try_with_untracked(|open| open.as_ref() == Some(&attachment))
                    .unwrap_or(false);
                if still_open {
                    source.set(Some(found));
                } else {
                    found.release();
                }
            });
        }
    });
    on_cleanup(move || {
        if let Some(old) = source.get_untracked() {
            old.release();
        }
    });
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
                    <img
                        src=move || {
                            source
                                .with(|s| s.as_ref().map(|s| s.url().to_owned()))
                                .or_else(|| attachment.thumbnail.clone())
                        }
                        alt="Photo"
                        on:click=|ev| ev.stop_propagation()
                    />
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
