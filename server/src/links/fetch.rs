//! Fetching a page, or a page's picture, for a preview: redirects are
//! followed by hand so that every hop is checked as the first was, the
//! type must be the one asked for, and the body is read only up to a
//! limit. The caller bounds the time.

use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{StatusCode, Url};

use crate::outbound::{OutboundError, Purpose, Reach};

/// How many redirects a link may take.
pub const MAX_REDIRECTS: usize = 5;

/// What is asked for, which decides the types accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Page,
    Picture,
}

impl Want {
    fn accept(self) -> &'static str {
        match self {
            Want::Page => "text/html",
            Want::Picture => "image/jpeg, image/png, image/gif, image/webp",
        }
    }

    fn takes(self, essence: &str) -> bool {
        match self {
            Want::Page => essence == "text/html",
            Want::Picture => matches!(
                essence,
                "image/jpeg" | "image/png" | "image/gif" | "image/webp"
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Refused(#[from] OutboundError),
    #[error("the link redirects more than {MAX_REDIRECTS} times")]
    TooManyRedirects,
    #[error("the link redirects to an address that is not a web page")]
    BadRedirect,
    #[error("the site could not be reached ({0})")]
    Unreachable(String),
    #[error("the site answered {0}")]
    Status(u16),
    #[error("the link is not a web page (it is {0})")]
    WrongType(String),
    #[error("the page is larger than {0} bytes")]
    TooLarge(usize),
}

/// A response read whole.
#[derive(Debug)]
pub struct Fetched {
    /// Where the last redirect led.
    pub url: Url,
    /// The `charset` parameter of the type, if any.
    pub charset: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Gets `url` with `client` (which must be one of `reach`'s), following
/// at most [`MAX_REDIRECTS`] redirects, each checked against `reach`, and
/// reading at most `limit` bytes.
pub async fn fetch(
    client: &reqwest::Client,
    reach: Reach,
    url: Url,
    want: Want,
    limit: usize,
) -> Result<Fetched, FetchError> {
    let mut url = reach.check_url(url, Purpose::Page)?;
    for _ in 0..=MAX_REDIRECTS {
        let response = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, want.accept())
            .send()
            .await
            .map_err(|err| FetchError::Unreachable(reason(&err)))?;
        let status = response.status();
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            let next = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| url.join(location).ok())
                .ok_or(FetchError::BadRedirect)?;
            url = reach.check_url(next, Purpose::Page)?;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let (essence, charset) = content_type(response.headers());
        if !want.takes(&essence) {
            return Err(FetchError::WrongType(if essence.is_empty() {
                "of no stated type".to_owned()
            } else {
                essence
            }));
        }
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(FetchError::TooLarge(limit));
        }
        let headers = response.headers().clone();
        let body = read_at_most(response, limit).await?;
        return Ok(Fetched {
            url,
            charset,
            headers,
            body,
        });
    }
    Err(FetchError::TooManyRedirects)
}

/// The body, or [`FetchError::TooLarge`] as soon as it passes `limit`
/// (whatever the length the site announced).
async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| FetchError::Unreachable(reason(&err)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(FetchError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short cause, without the URL (the caller knows it).
fn reason(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    if err.is_timeout() {
        "it took too long".to_owned()
    } else {
        cause.to_string()
    }
}

/// The type's essence and its `charset`, from `Content-Type`.
fn content_type(headers: &HeaderMap) -> (String, Option<String>) {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return (String::new(), None);
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts.find_map(|part| {
        let (name, value) = part.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_owned())
    });
    (essence, charset)
}

/// Whether the page's headers forbid framing it in another site:
/// `X-Frame-Options` (any value: `DENY`, `SAMEORIGIN` and the obsolete
/// `ALLOW-FROM` all leave Natter out), or a CSP `frame-ancestors` that
/// does not allow every origin.
pub fn refuses_frames(headers: &HeaderMap) -> bool {
    let frame_options = headers
        .get_all("x-frame-options")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| !value.trim().is_empty());
    let ancestors = headers
        .get_all("content-security-policy")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|policies| policies.split([',', ';']))
        .filter_map(|directive| {
            let mut words = directive.split_ascii_whitespace();
            let name = words.next()?;
            name.eq_ignore_ascii_case("frame-ancestors")
                .then(|| words.any(|source| matches!(source, "*" | "https:" | "http:")))
        })
        .any(|allows_anyone| !allows_anyone);
    frame_options || ancestors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn framing_is_refused_by_either_header() {
        assert!(!refuses_frames(&headers(&[])));
        assert!(refuses_frames(&headers(&[("x-frame-options", "DENY")])));
        assert!(refuses_frames(&headers(&[(
            "x-frame-options",
            "sameorigin"
        )])));
        assert!(refuses_frames(&headers(&[(
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'self' https://partner.example"
        )])));
        assert!(refuses_frames(&headers(&[(
            "content-security-policy",
            "frame-ancestors 'none'"
        )])));
        assert!(!refuses_frames(&headers(&[(
            "content-security-policy",
            "default-src 'self'; frame-ancestors *"
        )])));
        assert!(!refuses_frames(&headers(&[(
            "content-security-policy",
            "default-src 'self'"
        )])));
    }

    #[test]
    fn the_type_and_charset_are_read_from_content_type() {
        let read = |value: &'static str| content_type(&headers(&[("content-type", value)]));
        assert_eq!(read("text/html"), ("text/html".to_owned(), None));
        assert_eq!(
            read("Text/HTML; Charset=\"ISO-8859-1\""),
            ("text/html".to_owned(), Some("ISO-8859-1".to_owned()))
        );
        assert_eq!(content_type(&HeaderMap::new()), (String::new(), None));
    }
}
