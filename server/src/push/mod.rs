//! Web Push: handing one notification for one device to its push service
//! (RFC 8030), encrypted for the device (RFC 8291, `aes128gcm`) and signed
//! with the server's VAPID key (RFC 8292), through the `web-push-native`
//! crate and an [`outbound`](crate::outbound) HTTP client that connects
//! only to public addresses. Whom to tell, and what, is decided in
//! [`crate::chat::push`].
//!
//! - [`vapid`]: the server's key, kept in the data directory.

pub mod vapid;

use std::time::Duration;

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderValue;
use web_push_native::jwt_simple::algorithms::{ECDSAP256KeyPairLike, ES256KeyPair};
use web_push_native::jwt_simple::claims::Claims;
use web_push_native::{p256, Auth, WebPushBuilder};

use crate::outbound::{OutboundError, Reach};
use crate::store::PushDevice;

/// How long one push may take, connecting included: push services answer
/// at once, and a slow endpoint must not hold a sending slot for long.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a push service keeps a push for an unreachable device, and
/// how long its VAPID signature holds (at most a day, says RFC 8292).
const VALID: Duration = Duration::from_secs(12 * 3600);

/// What the push service said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Taken for delivery.
    Accepted,
    /// The subscription is gone (404 or 410): forget it.
    Gone,
    /// Refused for now (rate limited, overloaded, a bad request).
    Refused(u16),
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the push contact {0:?} is not a mailto: or https: URL")]
    Contact(String),
    #[error("push endpoint refused: {0}")]
    Endpoint(#[from] OutboundError),
    #[error("the subscription's keys are not a P-256 point and a 16-byte secret")]
    Keys,
    #[error("cannot encrypt the push: {0}")]
    Build(#[from] web_push_native::Error),
    #[error("cannot sign the push: {0}")]
    Sign(String),
    #[error("push service unreachable: {0}")]
    Http(#[from] reqwest::Error),
}

/// The server's side of Web Push: its key, its contact and its client.
pub struct PushService {
    key: ES256KeyPair,
    /// `mailto:` or `https:` URL push services may contact the operator at
    /// (the VAPID `sub` claim).
    contact: String,
    reach: Reach,
    client: reqwest::Client,
}

impl PushService {
    pub fn new(key: ES256KeyPair, contact: String, reach: Reach) -> Result<Self, PushError> {
        // RFC 8292 §2.1: a way to reach the operator.
        if !(contact.starts_with("mailto:") || contact.starts_with("https://")) {
            return Err(PushError::Contact(contact));
        }
        Ok(PushService {
            client: reach.client(TIMEOUT)?,
            key,
            contact,
            reach,
        })
    }

    /// The public key clients subscribe with.
    pub fn public_key(&self) -> String {
        vapid::public_key(&self.key)
    }

    /// Which endpoints are acceptable.
    pub fn reach(&self) -> Reach {
        self.reach
    }

    /// The VAPID authorization for a push to `endpoint` (RFC 8292): a JWT
    /// for the endpoint's origin, and our public key. Written here rather
    /// than by the crate, whose audience leaves out a port that is not the
    /// scheme's (a push service stand-in's, in tests).
    fn vapid(&self, endpoint: &reqwest::Url) -> Result<HeaderValue, PushError> {
        let claims = Claims::create(VALID.into())
            .with_audience(endpoint.origin().ascii_serialization())
            .with_subject(&self.contact);
        let token = self
            .key
            .sign(claims)
            .map_err(|err| PushError::Sign(err.to_string()))?;
        HeaderValue::try_from(format!("vapid t={token}, k={}", self.public_key()))
            .map_err(|err| PushError::Sign(err.to_string()))
    }

    /// Sends `payload` to `device`.
    pub async fn send(&self, device: &PushDevice, payload: &[u8]) -> Result<Delivery, PushError> {
        let endpoint = self.reach.check(&device.endpoint)?;
        let uri = endpoint
            .as_str()
            .parse()
            .map_err(|_| OutboundError::NotAUrl)?;
        let public =
            p256::PublicKey::from_sec1_bytes(&device.p256dh).map_err(|_| PushError::Keys)?;
        if device.auth.len() != 16 {
            return Err(PushError::Keys);
        }
        let auth = Auth::clone_from_slice(&device.auth);
        let mut request = WebPushBuilder::new(uri, public, auth)
            .with_valid_duration(VALID)
            .build(payload.to_vec())?;
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.vapid(&endpoint)?);
        // A message is for now: push services may wake a sleeping phone.
        headers.insert("urgency", HeaderValue::from_static("high"));
        let request = reqwest::Request::try_from(request)?;
        let status = self.client.execute(request).await?.status();
        Ok(match status.as_u16() {
            200..=299 => Delivery::Accepted,
            404 | 410 => Delivery::Gone,
            other => Delivery::Refused(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contact_must_be_a_way_to_reach_the_operator() {
        let made = |contact: &str| {
            PushService::new(ES256KeyPair::generate(), contact.to_owned(), Reach::Public).is_ok()
        };
        assert!(made("mailto:ops@natter.example"));
        assert!(made("https://natter.example/contact"));
        assert!(!made("ops@natter.example"));
        assert!(!made("http://natter.example/"));
    }
}
