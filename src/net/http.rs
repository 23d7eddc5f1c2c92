//! The JSON API over `fetch`.

use gloo_net::http::{Request, RequestBuilder, Response};
use natter_protocol::{
    AccountDeletion, AddMember, ApiError, ApiErrorCode, Conversation, ConversationId, Credentials,
    LinkInfo, MediaLimits, Message, Mute, MuteFor, NewGroup, NewReport, OpenDirect, PasswordChange,
    ProfileUpdate, PublicGroup, PushKey, PushSubscription, RenameGroup, ReportFiled, Seq,
    SessionInfo, User, UserId,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsCast;
use web_sys::{Blob, RequestCredentials};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The server answered with an error it explained.
    #[error("{}", .body.message)]
    Api { status: u16, body: ApiError },
    /// The server could not be reached at all.
    #[error("Can't reach Natter right now. Check your connection and try again.")]
    Unreachable,
    /// The server answered something this client cannot read.
    #[error("The server sent an unexpected answer ({0}). Reloading may help.")]
    Unexpected(String),
}

impl HttpError {
    pub fn code(&self) -> Option<ApiErrorCode> {
        match self {
            HttpError::Api { body, .. } => Some(body.error),
            _ => None,
        }
    }
}

/// Where the API lives. The app uses its own origin; tests may point it at a
/// server on another port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Api {
    base: String,
}

impl Api {
    pub fn same_origin() -> Self {
        Api::default()
    }

    /// An API on another origin: cookies are sent along (the server must list
    /// this page's origin in `--allow-origin`).
    pub fn at(base: impl Into<String>) -> Self {
        Api { base: base.into() }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Whether requests must carry cookies to another origin.
    pub(super) fn cross_origin(&self) -> bool {
        !self.base.is_empty()
    }

    fn prepare(&self, builder: RequestBuilder) -> RequestBuilder {
        if self.cross_origin() {
            builder.credentials(RequestCredentials::Include)
        } else {
            builder
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, HttpError> {
        let response = self
            .prepare(Request::get(&self.url(path)))
            .send()
            .await
            .map_err(|_| HttpError::Unreachable)?;
        decode(response).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.send_json(Request::post(&self.url(path)), body).await
    }

    /// Sends `body` as JSON with `builder`'s method and URL.
    async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        builder: RequestBuilder,
        body: &B,
    ) -> Result<T, HttpError> {
        let request = self
            .prepare(builder)
            .json(body)
            .map_err(|err| HttpError::Unexpected(err.to_string()))?;
        let response = request.send().await.map_err(|_| HttpError::Unreachable)?;
        decode(response).await
    }

    /// Someone by username (any case).
    pub async fn find_user(&self, username: &str) -> Result<User, HttpError> {
        let encoded = String::from(js_sys::encode_uri_component(username));
        self.get(&format!("/api/users/{encoded}")).await
    }

    pub async fn me(&self) -> Result<User, HttpError> {
        self.get("/api/me").await
    }

    /// Who is signed in (`None` when nobody is), without a failed request.
    pub async fn session(&self) -> Result<Option<User>, HttpError> {
        self.get::<SessionInfo>("/api/session")
            .await
            .map(|info| info.user)
    }

    pub async fn signup(&self, credentials: &Credentials) -> Result<User, HttpError> {
        self.post("/api/signup", credentials).await
    }

    pub async fn login(&self, credentials: &Credentials) -> Result<User, HttpError> {
        self.post("/api/login", credentials).await
    }

    pub async fn logout(&self) -> Result<(), HttpError> {
        self.post_empty("/api/logout").await
    }

    /// Ends every session of the account, this one included.
    pub async fn logout_everywhere(&self) -> Result<(), HttpError> {
        self.post_empty("/api/logout/everywhere").await
    }

    /// A new password; the account's other sessions end.
    pub async fn change_password(&self, change: &PasswordChange) -> Result<(), HttpError> {
        self.send_json_empty(Request::post(&self.url("/api/password")), change)
            .await
    }

    /// Sends `body` as JSON; the answer has no body.
    async fn send_json_empty<B: Serialize>(
        &self,
        builder: RequestBuilder,
        body: &B,
    ) -> Result<(), HttpError> {
        let request = self
            .prepare(builder)
            .json(body)
            .map_err(|err| HttpError::Unexpected(err.to_string()))?;
        let response = request.send().await.map_err(|_| HttpError::Unreachable)?;
        if response.ok() {
            Ok(())
        } else {
            Err(error_of(response).await)
        }
    }

    /// A POST without a body whose answer has none either.
    async fn post_empty(&self, path: &str) -> Result<(), HttpError> {
        self.send_empty(Request::post(&self.url(path))).await
    }

    /// Sends `request`, whose answer has no body.
    async fn send_empty(&self, request: RequestBuilder) -> Result<(), HttpError> {
        let response = self
            .prepare(request)
            .send()
            .await
            .map_err(|_| HttpError::Unreachable)?;
        if response.ok() {
            Ok(())
        } else {
            Err(error_of(response).await)
        }
    }

    /// Opens (or starts) the 1:1 conversation with `username`.
    pub async fn open_direct(&self, username: &str) -> Result<Conversation, HttpError> {
        self.post(
            "/api/conversations",
            &OpenDirect {
                username: username.to_owned(),
            },
        )
        .await
    }

    /// Up to `limit` messages before `before` (or the newest), oldest first.
    pub async fn history(
        &self,
        conversation: ConversationId,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<Message>, HttpError> {
        let mut path = format!("/api/conversations/{conversation}/messages?limit={limit}");
        if let Some(before) = before {
            path.push_str(&format!("&before={before}"));
        }
        self.get(&path).await
    }
}

/// Groups.
impl Api {
    async fn send_for<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, HttpError> {
        let response = self
            .prepare(request)
            .send()
            .await
            .map_err(|_| HttpError::Unreachable)?;
        decode(response).await
    }

    pub async fn create_group(&self, group: &NewGroup) -> Result<Conversation, HttpError> {
        self.post("/api/groups", group).await
    }

    pub async fn add_member(
        &self,
        group: ConversationId,
        username: &str,
    ) -> Result<Conversation, HttpError> {
        let body = AddMember {
            username: username.to_owned(),
        };
        self.post(&format!("/api/groups/{group}/members"), &body)
            .await
    }

    /// Removes `user` (oneself: leaves).
    pub async fn remove_member(
        &self,
        group: ConversationId,
        user: UserId,
    ) -> Result<Conversation, HttpError> {
        let url = self.url(&format!("/api/groups/{group}/members/{user}"));
        self.send_for(Request::delete(&url)).await
    }

    pub async fn promote(
        &self,
        group: ConversationId,
        user: UserId,
    ) -> Result<Conversation, HttpError> {
        let url = self.url(&format!("/api/groups/{group}/admins/{user}"));
        self.send_for(Request::post(&url)).await
    }

    pub async fn rename_group(
        &self,
        group: ConversationId,
        name: &str,
    ) -> Result<Conversation, HttpError> {
        let url = self.url(&format!("/api/groups/{group}"));
        let request = self
            .prepare(Request::patch(&url))
            .json(&RenameGroup {
                name: name.to_owned(),
            })
            .map_err(|err| HttpError::Unexpected(err.to_string()))?;
        let response = request.send().await.map_err(|_| HttpError::Unreachable)?;
        decode(response).await
    }

    /// Public groups whose hashtag starts with `prefix`.
    pub async fn search_groups(&self, prefix: &str) -> Result<Vec<PublicGroup>, HttpError> {
        let query = js_sys::encode_uri_component(prefix);
        self.get(&format!("/api/groups?hashtag={query}")).await
    }

    /// What is at `link`, as the server reads it (the linked site never
    /// hears from this device).
    pub async fn link_info(&self, link: &str) -> Result<LinkInfo, HttpError> {
        let query = js_sys::encode_uri_component(link);
        self.get(&format!("/api/previews?url={query}")).await
    }

    /// Who may not join a public group again (admins).
    pub async fn bans(&self, group: ConversationId) -> Result<Vec<User>, HttpError> {
        self.get(&format!("/api/groups/{group}/bans")).await
    }

    /// Lets `user` join the group again (admins).
    pub async fn unban(
        &self,
        group: ConversationId,
        user: UserId,
    ) -> Result<Conversation, HttpError> {
        let url = self.url(&format!("/api/groups/{group}/bans/{user}"));
        self.send_for(Request::delete(&url)).await
    }

    pub async fn join_group(&self, group: ConversationId) -> Result<Conversation, HttpError> {
        let url = self.url(&format!("/api/groups/{group}/join"));
        self.send_for(Request::post(&url)).await
    }

    /// Deletes the account for good; the password confirms it.
    pub async fn delete_account(&self, password: &str) -> Result<(), HttpError> {
        let body = AccountDeletion {
            password: password.to_owned(),
        };
        let request = self
            .prepare(Request::post(&self.url("/api/me/delete")))
            .json(&body)
            .map_err(|err| HttpError::Unexpected(err.to_string()))?;
        let response = request.send().await.map_err(|_| HttpError::Unreachable)?;
        if response.ok() {
            Ok(())
        } else {
            Err(error_of(response).await)
        }
    }

    /// Accepts a message request.
    pub async fn accept(&self, conversation: ConversationId) -> Result<Conversation, HttpError> {
        let url = self.url(&format!("/api/conversations/{conversation}/accept"));
        self.send_for(Request::post(&url)).await
    }

    /// Deletes a chat (a message request, or any other): the user leaves it.
    pub async fn delete_chat(&self, conversation: ConversationId) -> Result<(), HttpError> {
        let url = self.url(&format!("/api/conversations/{conversation}"));
        self.send_empty(Request::delete(&url)).await
    }

    /// Files a report with Natter's moderators.
    pub async fn report(&self, report: &NewReport) -> Result<ReportFiled, HttpError> {
        self.post("/api/reports", report).await
    }

    /// The people the user blocks.
    pub async fn blocked(&self) -> Result<Vec<User>, HttpError> {
        self.get("/api/blocks").await
    }

    /// Blocks `user`; answers the people the user blocks now.
    pub async fn block(&self, user: UserId) -> Result<Vec<User>, HttpError> {
        let url = self.url(&format!("/api/blocks/{user}"));
        self.send_for(Request::put(&url)).await
    }

    /// Unblocks `user`; answers the people the user blocks now.
    pub async fn unblock(&self, user: UserId) -> Result<Vec<User>, HttpError> {
        let url = self.url(&format!("/api/blocks/{user}"));
        self.send_for(Request::delete(&url)).await
    }

    /// The conversations the user muted.
    pub async fn mutes(&self) -> Result<Vec<Mute>, HttpError> {
        self.get("/api/mutes").await
    }

    /// Mutes `conversation` for `length` milliseconds (`None`: until
    /// unmuted); answers the user's mutes now.
    pub async fn mute(
        &self,
        conversation: ConversationId,
        length: Option<u64>,
    ) -> Result<Vec<Mute>, HttpError> {
        let url = self.url(&format!("/api/conversations/{conversation}/mute"));
        self.send_json(Request::put(&url), &MuteFor { for_ms: length })
            .await
    }

    /// The server's key for Web Push subscriptions.
    pub async fn push_key(&self) -> Result<PushKey, HttpError> {
        self.get("/api/push").await
    }

    /// Keeps this device's Web Push subscription on the server.
    pub async fn subscribe_push(&self, subscription: &PushSubscription) -> Result<(), HttpError> {
        let url = self.url("/api/push/subscription");
        self.send_json_empty(Request::put(&url), subscription).await
    }

    /// Unmutes `conversation`; answers the user's mutes now.
    pub async fn unmute(&self, conversation: ConversationId) -> Result<Vec<Mute>, HttpError> {
        let url = self.url(&format!("/api/conversations/{conversation}/mute"));
        self.send_for(Request::delete(&url)).await
    }
}

impl Api {
    /// Sets the user's display name and avatar.
    pub async fn update_profile(&self, profile: &ProfileUpdate) -> Result<User, HttpError> {
        let request = self
            .prepare(Request::patch(&self.url("/api/me")))
            .json(profile)
            .map_err(|err| HttpError::Unexpected(err.to_string()))?;
        let response = request.send().await.map_err(|_| HttpError::Unreachable)?;
        decode(response).await
    }

    /// How large uploads may be.
    pub async fn limits(&self) -> Result<MediaLimits, HttpError> {
        self.get("/api/limits").await
    }

    /// The media file `id`, to keep on this device.
    pub async fn media_file(&self, id: &str) -> Result<Blob, HttpError> {
        let response = self
            .prepare(Request::get(&self.url(&format!("/api/media/{id}"))))
            .send()
            .await
            .map_err(|_| HttpError::Unreachable)?;
        if !response.ok() {
            return Err(error_of(response).await);
        }
        let promise = web_sys::Response::from(response)
            .blob()
            .map_err(|err| HttpError::Unexpected(crate::js_error::describe(&err)))?;
        wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map(|blob| blob.unchecked_into())
            .map_err(|_| HttpError::Unreachable)
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, HttpError> {
    if !response.ok() {
        return Err(error_of(response).await);
    }
    response
        .json()
        .await
        .map_err(|err| HttpError::Unexpected(err.to_string()))
}

async fn error_of(response: Response) -> HttpError {
    let status = response.status();
    match response.json::<ApiError>().await {
        Ok(body) => HttpError::Api { status, body },
        Err(_) => HttpError::Unexpected(format!("HTTP {status}")),
    }
}
