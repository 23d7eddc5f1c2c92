//! Reporting a person, or one of their messages, to Natter's moderators:
//! a reason, an optional note, and "block them too".

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, ConversationId, NewReport, ReportReason, Seq, User};

use super::field::Field;
use super::layer::{use_layer, Kind};
use crate::state::ChatStore;

/// Who, or which message, is being reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub user: User,
    pub conversation: Option<ConversationId>,
    pub seq: Option<Seq>,
}

/// The report being written, if any, shared by the menus that open it.
#[derive(Clone, Copy)]
pub struct Reporting(pub RwSignal<Option<ReportTarget>>);

#[component]
pub fn ReportDialog(target: ReportTarget) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let reporting = expect_context::<Reporting>();
    let reason = RwSignal::new(None::<ReportReason>);
    let note = RwSignal::new(String::new());
    let also_block = RwSignal::new(!store.state.with_untracked(|s| s.blocks(target.user.id)));
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let sent = RwSignal::new(false);
    let what = if target.seq.is_some() {
        format!("Report a message from @{}", target.user.username)
    } else {
        format!("Report @{}", target.user.username)
    };
    let close = move || reporting.0.set(None);
    let root = NodeRef::<leptos::html::Form>::new();
    use_layer(
        Kind::Dialog,
        move || root.get().map(web_sys::Element::from),
        close,
    );
    let user = target.user.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(chosen) = reason.get_untracked() else {
            error.set(Some("Pick what is wrong.".to_owned()));
            return;
        };
        if let Err(invalid) = limits::check_report_note(&note.get_untracked()) {
            error.set(Some(invalid.to_string()));
            return;
        }
        let report = NewReport {
            user: user.id,
            conversation: target.conversation,
            seq: target.seq,
            reason: chosen,
            note: note.get_untracked(),
        };
        let block = also_block.get_untracked();
        let blocked_already = store.state.with_untracked(|s| s.blocks(user.id));
        busy.set(true);
        spawn_local(async move {
            let mut outcome = store.report(&report).await;
            if outcome.is_ok() && block && !blocked_already {
                outcome = store.block(report.user).await;
            }
            busy.set(false);
            match outcome {
                Ok(()) => sent.set(true),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    view! {
        <div class="modal-backdrop">
            <form
                class="panel report"
                role="dialog"
                aria-modal="true"
                aria-label=what.clone()
                on:submit=submit
                node_ref=root
            >
                <p class="panel-title">{what.clone()}</p>
                <Show
                    when=move || !sent.get()
                    fallback=move || {
                        view! {
                            <p role="status">"Thank you. Natter's moderators will look at it."</p>
                            <div class="panel-actions">
                                <button type="button" class="primary small" on:click=move |_| close()>"Done"</button>
                            </div>
                        }
                    }
                >
                    <fieldset class="reasons">
                        <legend>"What is wrong?"</legend>
                        {ReportReason::ALL
                            .into_iter()
                            .map(|option| {
                                view! {
                                    <label class="checkbox">
                                        <input
                                            type="radio"
                                            name="reason"
                                            autofocus=option == ReportReason::Spam
                                            on:change=move |_| {
                                                reason.set(Some(option));
                                                error.set(None);
                                            }
                                        />
                                        <span>{option.label()}</span>
                                    </label>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                    <Field label="Anything to add (optional)">
                        <textarea
                            maxlength=limits::REPORT_NOTE_MAX.to_string()
                            rows="2"
                            bind:value=note
                        ></textarea>
                    </Field>
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            prop:checked=move || also_block.get()
                            on:change=move |ev| also_block.set(event_target_checked(&ev))
                        />
                        <span>"Also block @" {target.user.username.clone()}</span>
                    </label>
                    <p class="panel-note">
                        "The moderators see this and the last messages of the chat as you see them."
                    </p>
                    {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
                    <div class="panel-actions">
                        <button type="button" class="link-button" on:click=move |_| close()>"Cancel"</button>
                        <button type="submit" class="primary small danger" disabled=move || busy.get()>"Report"</button>
                    </div>
                </Show>
            </form>
        </div>
    }
}
