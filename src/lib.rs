//! Natter web client.
