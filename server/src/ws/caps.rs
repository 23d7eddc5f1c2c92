//! How many sockets one account, and one address, may hold open on this
//! server. Each socket costs memory and a task; without a cap one account
//! could open thousands. The counts are this process's: a cluster's nodes
//! each hold their own (see ARCHITECTURE.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use natter_protocol::UserId;

#[derive(Default)]
struct Counts {
    accounts: HashMap<UserId, u32>,
    addresses: HashMap<IpAddr, u32>,
}

/// The open sockets, counted.
pub struct SocketCaps {
    counts: Arc<Mutex<Counts>>,
    per_account: u32,
    per_address: u32,
}

/// One open socket; dropping it gives its place back.
pub struct Seat {
    counts: Arc<Mutex<Counts>>,
    user: UserId,
    address: IpAddr,
}

/// Which cap a new socket would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Account,
    Address,
}

impl SocketCaps {
    pub fn new(per_account: u32, per_address: u32) -> Self {
        SocketCaps {
            counts: Arc::default(),
            per_account,
            per_address,
        }
    }

    /// A place for one more socket of `user` from `address`, if both have
    /// room.
    pub fn admit(&self, user: UserId, address: IpAddr) -> Result<Seat, Full> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.accounts.get(&user).copied().unwrap_or(0) >= self.per_account {
            return Err(Full::Account);
        }
        if counts.addresses.get(&address).copied().unwrap_or(0) >= self.per_address {
            return Err(Full::Address);
        }
        *counts.accounts.entry(user).or_default() += 1;
        *counts.addresses.entry(address).or_default() += 1;
        Ok(Seat {
            counts: self.counts.clone(),
            user,
            address,
        })
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        release(&mut counts.accounts, self.user);
        release(&mut counts.addresses, self.address);
    }
}

fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: K) {
    if let Some(count) = map.get_mut(&key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_and_places_come_back() {
        let caps = SocketCaps::new(2, 3);
        let home: IpAddr = [10, 0, 0, 1].into();
        let first = caps.admit(1, home).unwrap();
        let _second = caps.admit(1, home).unwrap();
        assert_eq!(caps.admit(1, home).err(), Some(Full::Account));
        let _other = caps.admit(2, home).unwrap();
        assert_eq!(caps.admit(3, home).err(), Some(Full::Address));
        drop(first);
        assert!(caps.admit(1, [10, 0, 0, 2].into()).is_ok());
    }
}
