//! System notifications: the browser's permission, asking for it, and
//! showing one through the service worker's registration (which works on
//! every platform that has notifications, and lets the worker handle the
//! click even once this page is gone). Knows nothing of the UI.
//!
//! The "show message text" choice lives here too: it belongs to the
//! device, like the permission. So does the device's Web Push
//! subscription, which the server pushes to while no tab is open.

use natter_protocol::{ConversationId, PushKeys, PushSubscription};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MessageEvent, NotificationOptions, NotificationPermission, PushSubscriptionOptionsInit,
    ServiceWorkerRegistration,
};

use crate::net::http::{Api, HttpError};

/// Where the "show message text" choice is kept.
const PREVIEWS_KEY: &str = "natter.previews";

/// What the browser lets this site do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// This browser has no notifications (or not for this page).
    Unsupported,
    /// Not asked yet: asking is allowed, from a click.
    Ask,
    Granted,
    /// Refused: only the browser's site settings can change it.
    Denied,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("This browser cannot show notifications.")]
    Unsupported,
    #[error("Notifications are not allowed for Natter in this browser.")]
    NotAllowed,
    #[error("The notification could not be shown: {0}")]
    Failed(String),
    #[error("this browser has no push service, so notifications show only while Natter is open.")]
    NoPush,
    #[error("{0}")]
    Server(HttpError),
}

impl From<JsValue> for NotifyError {
    fn from(err: JsValue) -> Self {
        NotifyError::Failed(crate::js_error::describe(&err))
    }
}

fn supported() -> bool {
    web_sys::window().is_some_and(|window| {
        js_sys::Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false)
            && js_sys::Reflect::has(&window.navigator(), &JsValue::from_str("serviceWorker"))
                .unwrap_or(false)
    })
}

pub fn permission() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    match web_sys::Notification::permission() {
        NotificationPermission::Granted => Permission::Granted,
        NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Ask,
    }
}

/// Asks the person; browsers only show the question after a click.
pub async fn request() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    if let Ok(asked) = web_sys::Notification::request_permission() {
        // The answer is the permission, read again below either way.
        let _ = JsFuture::from(asked).await;
    }
    permission()
}

/// One notification about a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemNotice {
    pub conversation: ConversationId,
    pub title: String,
    pub body: String,
}

impl SystemNotice {
    /// Notifications with the same tag replace each other: one per
    /// conversation, showing its newest message.
    pub fn tag(&self) -> String {
        tag_of(self.conversation)
    }
}

/// The service worker's registration, once it is in charge of this page.
/// `None` without one (its registration failed): `ready` would wait for
/// it forever.
async fn registration() -> Option<ServiceWorkerRegistration> {
    let window = web_sys::window()?;
    if !supported() {
        return None;
    }
    let workers = window.navigator().service_worker();
    workers.controller()?;
    let ready = JsFuture::from(workers.ready().ok()?).await.ok()?;
    Some(ready.unchecked_into())
}

fn tag_of(conversation: ConversationId) -> String {
    format!("conversation-{conversation}")
}

/// Shows `notice` through the service worker.
pub async fn show(notice: &SystemNotice) -> Result<(), NotifyError> {
    if permission() != Permission::Granted {
        return Err(if supported() {
            NotifyError::NotAllowed
        } else {
            NotifyError::Unsupported
        });
    }
    let registration = registration().await.ok_or(NotifyError::Unsupported)?;
    let options = NotificationOptions::new();
    options.set_body(&notice.body);
    options.set_tag(&notice.tag());
    // PNG: not every platform draws an SVG icon. A later message in the
    // same conversation replaces the notification and alerts again.
    options.set_icon("/icon-192.png");
    options.set_renotify(true);
    let data = js_sys::Object::new();
    js_sys::Reflect::set(
        &data,
        &JsValue::from_str("conversation"),
        &JsValue::from_f64(notice.conversation as f64),
    )?;
    options.set_data(&data);
    JsFuture::from(registration.show_notification_with_options(&notice.title, &options)?).await?;
    Ok(())
}

/// Closes every notification this app shows (at logout: they may quote
/// messages).
pub async fn close_all() {
    close_where(|_| true).await;
}

/// Closes the notification about `conversation` (it is on screen now).
pub async fn close_about(conversation: ConversationId) {
    let tag = tag_of(conversation);
    close_where(|shown| shown == tag).await;
}

/// Closes the notifications whose tag `closes` picks.
async fn close_where(closes: impl Fn(&str) -> bool) {
    let Some(registration) = registration().await else {
        return;
    };
    let Ok(listed) = registration.get_notifications() else {
        return;
    };
    if let Ok(shown) = JsFuture::from(listed).await {
        for notification in js_sys::Array::from(&shown).iter() {
            let notification: web_sys::Notification = notification.unchecked_into();
            if notification.tag().is_some_and(|tag| closes(&tag)) {
                notification.close();
            }
        }
    }
}

/// Where the server key this device's push subscription was made with is
/// kept: a subscription is tied to one key, and a server that lost its key
/// needs a new subscription.
const PUSH_KEY: &str = "natter.push-key";

/// A subscription as the browser's `PushSubscription.toJSON()` writes it.
#[derive(serde::Deserialize)]
struct BrowserSubscription {
    endpoint: String,
    keys: PushKeys,
}

/// Subscribes this device to Web Push (or keeps its subscription) and
/// gives it to the server, saying whether previews are on: then the server
/// tells this device of messages while Natter is closed here.
pub async fn keep_push(previews: bool) -> Result<(), NotifyError> {
    if permission() != Permission::Granted {
        return Err(NotifyError::NotAllowed);
    }
    let registration = registration().await.ok_or(NotifyError::Unsupported)?;
    let manager = registration
        .push_manager()
        .map_err(|_| NotifyError::NoPush)?;
    let api = Api::same_origin();
    let key = api.push_key().await.map_err(NotifyError::Server)?.key;
    let storage = crate::account::storage();
    let kept_key = storage
        .as_ref()
        .and_then(|storage| storage.get_item(PUSH_KEY).ok().flatten());
    let existing = JsFuture::from(manager.get_subscription()?).await?;
    let subscription = match existing.dyn_into::<web_sys::PushSubscription>() {
        Ok(existing) if kept_key.as_deref() == Some(key.as_str()) => existing.into(),
        other => {
            if let Ok(stale) = other {
                JsFuture::from(stale.unsubscribe()?).await?;
            }
            let options = PushSubscriptionOptionsInit::new();
            options.set_user_visible_only(true);
            options.set_application_server_key_opt_str(Some(&key));
            let made = JsFuture::from(manager.subscribe_with_options(&options)?)
                .await
                .map_err(|_| NotifyError::NoPush)?;
            if let Some(storage) = &storage {
                let _ = storage.set_item(PUSH_KEY, &key);
            }
            made
        }
    };
    let json: String = js_sys::JSON::stringify(&subscription)?.into();
    let browser: BrowserSubscription =
        serde_json::from_str(&json).map_err(|err| NotifyError::Failed(err.to_string()))?;
    api.subscribe_push(&PushSubscription {
        endpoint: browser.endpoint,
        keys: browser.keys,
        previews,
    })
    .await
    .map_err(NotifyError::Server)
}

/// At every start with notifications allowed: each sign-in is a new device
/// to the server, which gets this browser's push subscription again (and
/// the browser's, if it changed).
pub fn keep_push_if_allowed() {
    if permission() == Permission::Granted {
        leptos::task::spawn_local(async {
            if let Err(err) = keep_push(previews()).await {
                leptos::logging::warn!("{err}");
            }
        });
    }
}

/// Whether notifications show the message's text (on unless turned off).
pub fn previews() -> bool {
    crate::account::storage()
        .and_then(|storage| storage.get_item(PREVIEWS_KEY).ok().flatten())
        .is_none_or(|value| value != "off")
}

pub fn set_previews(on: bool) {
    if let Some(storage) = crate::account::storage() {
        // Without storage the choice is not kept: previews stay on.
        let _ = storage.set_item(PREVIEWS_KEY, if on { "on" } else { "off" });
    }
}

/// Listens for the service worker's word that a notification about a
/// conversation was clicked (the worker has brought this page forward).
pub struct ClickListener {
    container: web_sys::ServiceWorkerContainer,
    /// Kept alive for as long as it listens.
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl ClickListener {
    /// `None` where the browser has no service workers.
    pub fn start(on_open: impl Fn(ConversationId) + 'static) -> Option<Self> {
        if !supported() {
            return None;
        }
        let container = web_sys::window()?.navigator().service_worker();
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let field = |name: &str| js_sys::Reflect::get(&data, &JsValue::from_str(name)).ok();
            let asked = field("type").and_then(|kind| kind.as_string());
            let conversation = field("conversation").and_then(|id| id.as_f64());
            if let (Some("open-conversation"), Some(id)) = (asked.as_deref(), conversation) {
                on_open(id as ConversationId);
            }
        });
        // Setting the handler also lets messages queued since the page
        // loaded through.
        container.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(ClickListener {
            container,
            _listener: listener,
        })
    }
}

impl Drop for ClickListener {
    fn drop(&mut self) {
        self.container.set_onmessage(None);
    }
}
