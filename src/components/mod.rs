//! UI pieces. Each reads the [`ChatStore`](crate::state::ChatStore) from
//! context and renders; none talks to the network or the device's copy of
//! the chats but through the store.

pub mod account_data;
pub mod add_contact;
pub mod announcer;
pub mod attachment;
pub mod avatar;
pub mod banner;
pub mod blocked;
pub mod browser;
pub mod composer;
pub mod conversation;
pub mod conversation_list;
pub mod conversation_menu;
pub mod field;
pub mod find_user;
pub mod group_event;
pub mod group_info;
pub mod install;
pub mod invite;
pub mod layer;
pub mod link_card;
pub mod logout;
pub mod message_actions;
pub mod message_list;
pub mod new_group;
pub mod notifications;
pub mod notifier;
pub mod outdated;
pub mod page_bridge;
pub mod password;
pub mod picked;
pub mod picture_picker;
pub mod profile;
pub mod recorder;
pub mod report;
pub mod request_bar;
pub mod rich_text;
pub mod search;
pub mod share_picker;
pub mod voice_player;
