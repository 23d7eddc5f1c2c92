//! What is at a link, asked of Natter's server (which reads the page, so
//! that this device's address never reaches the linked site).

use natter_protocol::LinkInfo;

use super::ChatStore;
use crate::net::http::{Api, HttpError};

impl ChatStore {
    /// The card of `link`, where it leads and whether it may be framed.
    pub async fn link_info(&self, link: &str) -> Result<LinkInfo, HttpError> {
        Api::same_origin().link_info(link).await
    }
}
