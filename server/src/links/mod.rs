//! Link previews: what a page is (title, description, site, picture) and
//! whether it may be framed, read by this server so that nobody's device
//! asks the linked site anything until they open the link.
//!
//! Every request goes through [`crate::outbound`]'s rules (public
//! addresses only, checked on the address actually connected to, ports 80
//! and 443, no proxy) and [`fetch`]'s (each redirect checked, at most
//! five; `text/html` only; at most [`PAGE_BYTES`] read), within
//! [`TIME`]. Pictures go through the same and come back as our own small
//! JPEGs ([`picture`]). Answers are kept for a day by URL, failures for a
//! few minutes, in this process; fetching is limited per account and in
//! all.
//!
//! - [`fetch`]: one guarded request, redirects by hand.
//! - [`page`]: the charset and the tags.
//! - [`picture`]: re-encoding and keeping pictures.

pub mod fetch;
pub mod page;
pub mod picture;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use natter_protocol::limits::PREVIEW_URL_MAX;
use natter_protocol::{LinkInfo, LinkPreview, UserId};
use reqwest::Url;
use tokio::sync::Semaphore;

use self::fetch::{FetchError, Want};
use self::picture::Pictures;
use crate::outbound::{Hosts, Purpose, Reach};

/// How long a page (with its picture) may take.
pub const TIME: Duration = Duration::from_secs(5);
/// The most of a page read.
pub const PAGE_BYTES: usize = 1024 * 1024;
/// The most of a picture read.
pub const PICTURE_BYTES: usize = 5 * 1024 * 1024;
/// How long an answer is kept.
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// How long a failure is kept (a page that was down may be up again).
const KEEP_FAILURE: Duration = Duration::from_secs(10 * 60);
/// How many links are remembered.
const CACHED: usize = 10_000;
/// How many pages are fetched at once, by everyone.
const AT_ONCE: usize = 16;
/// Fetches one account may start: a burst, then one every few seconds.
/// Answers from the cache are free.
const BURST: u32 = 20;
const EVERY: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error("that is not a link")]
    NotAUrl,
    #[error("links longer than {PREVIEW_URL_MAX} characters are not previewed")]
    TooLong,
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("the page took more than {} seconds", TIME.as_secs())]
    TooSlow,
    #[error("too many previews at once; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
}

/// An answer, or a failure, and when it was found.
type Found = (Instant, Result<LinkInfo, PreviewError>);

pub struct Previews {
    reach: Reach,
    client: reqwest::Client,
    pictures: Pictures,
    cache: Mutex<HashMap<String, Found>>,
    fetching: Semaphore,
    accounts: DefaultKeyedRateLimiter<UserId>,
}

impl Previews {
    /// Previews fetched within `reach` (names in `hosts` resolved without
    /// asking the system: tests only), pictures kept in `dir`.
    pub fn new(
        reach: Reach,
        hosts: Hosts,
        dir: impl Into<PathBuf>,
    ) -> Result<Self, reqwest::Error> {
        let quota = Quota::with_period(EVERY)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN));
        Ok(Previews {
            reach,
            // The client gives up a little after [`TIME`], so that the page's own
            // deadline is what a slow site meets.
            client: reach.client_resolving(TIME + Duration::from_secs(1), hosts)?,
            pictures: Pictures::new(dir),
            cache: Mutex::new(HashMap::new()),
            fetching: Semaphore::new(AT_ONCE),
            accounts: RateLimiter::keyed(quota),
        })
    }

    pub fn pictures(&self) -> &Pictures {
        &self.pictures
    }

    /// What is at `link`, for `user`: from the cache, or fetched now.
    pub async fn look_up(&self, user: UserId, link: &str) -> Result<LinkInfo, PreviewError> {
        if link.chars().count() > PREVIEW_URL_MAX {
            return Err(PreviewError::TooLong);
        }
        let mut url = Url::parse(link.trim()).map_err(|_| PreviewError::NotAUrl)?;
        // The fragment names a place in the page, which is the same page.
        url.set_fragment(None);
        let url = self
            .reach
            .check_url(url, Purpose::Page)
            .map_err(FetchError::from)?;
        let key = url.as_str().to_owned();
        if let Some(found) = self.cached(&key) {
            return found.map(|info| for_link(info, link));
        }
        let now = DefaultClock::default().now();
        if self.accounts.len() > CACHED {
            // Accounts whose allowance is whole again need no entry.
            self.accounts.retain_recent();
        }
        if let Err(not_until) = self.accounts.check_key(&user) {
            let wait = not_until.wait_time_from(now);
            return Err(PreviewError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        let found = {
            let _turn = self.fetching.acquire().await;
            self.fetch(url).await
        };
        self.remember(key, found.clone());
        found.map(|info| for_link(info, link))
    }

    fn cached(&self, key: &str) -> Option<Result<LinkInfo, PreviewError>> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (at, found) = cache.get(key)?;
        let keep = if found.is_ok() { KEEP } else { KEEP_FAILURE };
        (at.elapsed() < keep).then(|| found.clone())
    }

    fn remember(&self, key: String, found: Result<LinkInfo, PreviewError>) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= CACHED {
            cache.retain(|_, (at, found)| {
                at.elapsed() < if found.is_ok() { KEEP } else { KEEP_FAILURE }
            });
        }
        if cache.len() >= CACHED {
            // Still full of fresh answers: make room for a tenth.
            let gone: Vec<String> = cache.keys().take(CACHED / 10).cloned().collect();
            for key in gone {
                cache.remove(&key);
            }
        }
        cache.insert(key, (Instant::now(), found));
    }

    /// Fetches the page, then its picture, all within [`TIME`]: a page
    /// that leaves no time for its picture gets a card without one.
    async fn fetch(&self, url: Url) -> Result<LinkInfo, PreviewError> {
        let deadline = tokio::time::Instant::now() + TIME;
        let page = fetch::fetch(&self.client, self.reach, url, Want::Page, PAGE_BYTES);
        let fetched = tokio::time::timeout_at(deadline, page)
            .await
            .map_err(|_| PreviewError::TooSlow)??;
        let refuses_frames = fetch::refuses_frames(&fetched.headers);
        let url = fetched.url.clone();
        // Up to a megabyte of HTML is parsed away from the sockets' threads.
        let read = tokio::task::spawn_blocking(move || {
            let html = page::decode(&fetched.body, fetched.charset.as_deref());
            page::read(&html, &fetched.url)
        });
        let info = tokio::time::timeout_at(deadline, read)
            .await
            .map_err(|_| PreviewError::TooSlow)?
            .map_err(|_| PreviewError::TooSlow)?;
        let image = match &info.image {
            Some(src) => tokio::time::timeout_at(deadline, self.picture(src.clone()))
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let title = info.title.or_else(|| {
            // A page with a description or a picture but no title is
            // named by its host.
            (info.description.is_some() || image.is_some())
                .then(|| url.host_str().map(str::to_owned))
                .flatten()
        });
        Ok(LinkInfo {
            preview: title.map(|title| LinkPreview {
                url: url.to_string(),
                title,
                description: info.description,
                site_name: info.site_name,
                image,
            }),
            final_url: url.to_string(),
            refuses_frames,
        })
    }

    /// The page's picture, made ours; a picture that cannot be had leaves
    /// the card without one.
    async fn picture(&self, src: Url) -> Option<natter_protocol::PreviewImage> {
        let fetched = fetch::fetch(&self.client, self.reach, src, Want::Picture, PICTURE_BYTES)
            .await
            .inspect_err(|err| tracing::debug!(error = %err, "no preview picture"))
            .ok()?;
        let shrunk = tokio::task::spawn_blocking(move || picture::shrink(&fetched.body))
            .await
            .ok()?
            .inspect_err(|err| tracing::debug!(error = %err, "preview picture unreadable"))
            .ok()?;
        let (jpeg, width, height) = shrunk;
        self.pictures
            .keep(jpeg, width, height)
            .await
            .inspect_err(|err| tracing::warn!(error = %err, "keeping a preview picture failed"))
            .ok()
    }
}

/// `info` with its card naming `link` as written (the cache keeps one
/// spelling of each address).
fn for_link(mut info: LinkInfo, link: &str) -> LinkInfo {
    if let Some(preview) = &mut info.preview {
        preview.url = link.trim().to_owned();
    }
    info
}
