//! Extractors whose rejections speak the API's JSON error format, and the
//! client's address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::AppState;

/// Like `axum::Json`, but a malformed body is a 400 with an [`ApiError`]
/// body naming the problem.
///
/// [`ApiError`]: natter_protocol::ApiError
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(AppError::BadRequest(describe_json(&rejection))),
        }
    }
}

fn describe_json(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "The request body must be JSON (Content-Type: application/json).".to_owned()
        }
        other => format!("The request body is not valid: {}", other.body_text()),
    }
}

/// Like `axum::extract::Query`, with JSON errors.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(AppError::BadRequest(describe_query(&rejection))),
        }
    }
}

fn describe_query(rejection: &QueryRejection) -> String {
    format!("The query string is not valid: {}", rejection.body_text())
}

/// The client's address: the connection's peer, or, when the peer is a
/// proxy listed in `--trusted-proxy`, the address that proxy saw (the last
/// entry of `X-Forwarded-For` that is not itself a trusted proxy). Without
/// it, everyone behind one proxy would share one address's limits.
///
/// An IPv6 client is known by its /64, which one subscriber usually holds
/// whole: otherwise one host could be a new address for every request.
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        client_address(
            &parts.extensions,
            &parts.headers,
            &state.config.trusted_proxies,
        )
        .map(ClientAddress)
        .ok_or_else(|| AppError::Internal("no peer address".to_owned()))
    }
}

/// [`ClientAddress`] from a request's parts; `None` when the server was
/// not set up to record peers.
pub fn client_address(
    extensions: &Extensions,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())?;
    Some(network_of(forwarded_for(peer, headers, trusted)))
}

fn forwarded_for(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

/// An IPv4 address as it is; an IPv6 address cut to its /64 (an IPv4
/// address mapped into IPv6 is taken out again).
fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_may_say_who_the_client_is() {
        let proxy: IpAddr = [10, 0, 0, 2].into();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.0.0.2".parse().unwrap(),
        );
        // The client may put anything first; the proxy's own entry is last.
        assert_eq!(
            forwarded_for(proxy, &headers, &[proxy]),
            IpAddr::from([203, 0, 113, 9])
        );
        let stranger: IpAddr = [198, 51, 100, 7].into();
        assert_eq!(forwarded_for(stranger, &headers, &[proxy]), stranger);
        assert_eq!(forwarded_for(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn an_ipv6_host_is_its_slash_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let neighbour: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(one), network_of(other));
        assert_ne!(network_of(one), network_of(neighbour));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(network_of(mapped), IpAddr::from([192, 0, 2, 1]));
        let v4: IpAddr = [192, 0, 2, 1].into();
        assert_eq!(network_of(v4), v4);
    }
}
