//! Kik's S / D / R for one's own messages.

use natter_protocol::{Member, Seq};

/// How far one of the user's own messages has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Receipt {
    /// Still on this device, waiting for the server.
    Waiting,
    /// S: stored by the server.
    Sent,
    /// D: stored on the recipient's device.
    Delivered,
    /// R: on the recipient's screen.
    Read,
}

impl Receipt {
    /// The letter Kik shows.
    pub fn letter(self) -> &'static str {
        match self {
            Receipt::Waiting => "",
            Receipt::Sent => "S",
            Receipt::Delivered => "D",
            Receipt::Read => "R",
        }
    }

    /// The accessible name.
    pub fn label(self) -> &'static str {
        match self {
            Receipt::Waiting => "Waiting to send",
            Receipt::Sent => "Sent",
            Receipt::Delivered => "Delivered",
            Receipt::Read => "Read",
        }
    }
}

/// The receipt of message `seq`, given the other members: it counts as
/// delivered or read once every other member has got that far.
pub fn of<'a>(others: impl Iterator<Item = &'a Member>, seq: Seq) -> Receipt {
    let mut receipt = Receipt::Read;
    let mut any = false;
    for member in others {
        any = true;
        let reached = if member.read >= seq {
            Receipt::Read
        } else if member.delivered >= seq {
            Receipt::Delivered
        } else {
            Receipt::Sent
        };
        receipt = receipt.min(reached);
    }
    if any {
        receipt
    } else {
        Receipt::Sent
    }
}
