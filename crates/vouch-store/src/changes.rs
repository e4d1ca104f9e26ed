//! What other instances of a central service changed, for the state an instance keeps in memory from the store
//! (the gallery's search index, the signing keys). A write that changes such state announces its topic in its own
//! transaction; on PostgreSQL that is `NOTIFY`, delivered when the transaction commits, and every instance
//! `LISTEN`s on a connection of its own. An instance hears only the others: what it wrote itself it has applied
//! already. On SQLite one process writes, so nothing is announced.
//!
//! Listeners read [`Store::changes`] before they use their state and rebuild it on a topic of theirs or on
//! [`EVERYTHING`], which is heard when the link to the database came back after a loss (announcements made while
//! it was down are not replayed) or when a listener fell too far behind.

use tokio::sync::broadcast;

use crate::db::{Conn, Dialect};
use crate::db_params;
use crate::error::Result;
use crate::Store;

/// Gallery templates were added or removed.
pub const GALLERY: &str = "gallery";
/// A setting changed (the signing certificate and escrow among them).
pub const SETTINGS: &str = "settings";
/// Anything may have changed.
pub const EVERYTHING: &str = "*";

/// The PostgreSQL channel instances announce on.
pub(crate) const CHANNEL: &str = "vouch_changes";

/// How many announcements a listener may fall behind before it hears [`EVERYTHING`] instead.
const BACKLOG: usize = 256;

pub(crate) fn channel() -> broadcast::Sender<String> {
    broadcast::channel(BACKLOG).0
}

/// Announces `topic` in the caller's transaction, as this instance (`instance`).
pub(crate) fn announce(tx: &Conn<'_>, instance: &str, topic: &str) -> Result<()> {
    if tx.dialect() == Dialect::Postgres {
        tx.execute("SELECT pg_notify(?1, ?2)", db_params![CHANNEL, format!("{topic} {instance}")])?;
    }
    Ok(())
}

/// The topic of a payload another instance sent; `None` for this instance's own.
pub(crate) fn heard<'a>(payload: &'a str, instance: &str) -> Option<&'a str> {
    let (topic, from) = payload.split_once(' ')?;
    (from != instance).then_some(topic)
}

/// A listener's view of the announcements: whether any of its topics (or [`EVERYTHING`]) came since it last looked.
pub struct Changes {
    receiver: broadcast::Receiver<String>,
}

impl Changes {
    /// Takes every announcement waiting and says whether one is about `topic`.
    pub fn any_about(&mut self, topic: &str) -> bool {
        let mut about = false;
        loop {
            match self.receiver.try_recv() {
                Ok(heard) => about |= heard == topic || heard == EVERYTHING,
                Err(broadcast::error::TryRecvError::Lagged(_)) => about = true,
                Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed) => return about,
            }
        }
    }
}

impl Store {
    /// What other instances announce from now on.
    pub fn changes(&self) -> Changes {
        Changes { receiver: self.inner.changes.subscribe() }
    }

    pub(crate) fn announce(&self, tx: &Conn<'_>, topic: &str) -> Result<()> {
        announce(tx, &self.inner.instance, topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_hears_the_others_not_itself() {
        assert_eq!(heard("gallery abc", "xyz"), Some("gallery"));
        assert_eq!(heard("gallery abc", "abc"), None);
        assert_eq!(heard("garbage", "abc"), None);
    }

    #[test]
    fn a_listener_that_falls_behind_rebuilds() {
        let sender = channel();
        let mut changes = Changes { receiver: sender.subscribe() };
        assert!(!changes.any_about(GALLERY));
        sender.send(SETTINGS.into()).unwrap();
        assert!(!changes.any_about(GALLERY), "another topic");
        sender.send(GALLERY.into()).unwrap();
        assert!(changes.any_about(GALLERY));
        assert!(!changes.any_about(GALLERY), "taken once");
        for _ in 0..BACKLOG + 1 {
            sender.send(SETTINGS.into()).unwrap();
        }
        assert!(changes.any_about(GALLERY), "lagged: anything may have changed");
    }
}
