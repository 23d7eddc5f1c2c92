//! Web Push subscriptions, one row per device (session).

use natter_protocol::{Millis, UserId};
use rusqlite::{params, Connection, TransactionBehavior};

use crate::store::{PushDevice, StoreError, MAX_PUSH_DEVICES};

pub fn put(conn: &mut Connection, device: &PushDevice, now: Millis) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached("DELETE FROM push_devices WHERE session_hash = ?1 OR endpoint = ?2")?
        .execute(params![&device.session[..], device.endpoint])?;
    tx.prepare_cached(
        "INSERT INTO push_devices
             (session_hash, user_id, endpoint, p256dh, auth, previews, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        &device.session[..],
        device.user,
        device.endpoint,
        device.p256dh,
        device.auth,
        device.previews,
        now
    ])?;
    tx.prepare_cached(
        "DELETE FROM push_devices WHERE user_id = ?1 AND session_hash NOT IN (
             SELECT session_hash FROM push_devices WHERE user_id = ?1
             ORDER BY created_at DESC, rowid DESC LIMIT ?2)",
    )?
    .execute(params![device.user, MAX_PUSH_DEVICES])?;
    tx.commit()?;
    Ok(())
}

pub fn of_user(conn: &Connection, user: UserId) -> Result<Vec<PushDevice>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT session_hash, endpoint, p256dh, auth, previews FROM push_devices
         WHERE user_id = ?1 ORDER BY created_at",
    )?;
    let rows = statement.query_map([user], |row| {
        let session: Vec<u8> = row.get(0)?;
        Ok((session, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
    })?;
    let mut devices = Vec::new();
    for row in rows {
        let (session, endpoint, p256dh, auth, previews) = row?;
        let session: [u8; 32] = session.try_into().map_err(|_| {
            StoreError::Data("a push device's session hash is not 32 bytes".to_owned())
        })?;
        devices.push(PushDevice {
            user,
            session,
            endpoint,
            p256dh,
            auth,
            previews,
        });
    }
    Ok(devices)
}
