//! The connection state of each peer, as the application sees it: `connecting` (we dial it),
//! `connected` (a first connection is up), `disconnecting` (we are closing it), `disconnected`
//! (its last connection closed, or every dial failed). Transitions come out in that order for a
//! peer; an inbound connection goes straight to `connected`, and a remote close skips
//! `disconnecting`.

use std::collections::HashMap;

use libp2p::PeerId;
use serde::Serialize;

/// A peer's connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnState {
    /// This node dials it and no connection is up yet.
    Connecting,
    /// At least one connection is up.
    Connected,
    /// This node is closing its connections (pruning, `removePeer`, a ban).
    Disconnecting,
    /// No connection and no dial.
    Disconnected,
}

impl ConnState {
    /// The name the API uses: `"connecting"`, `"connected"`, `"disconnecting"`,
    /// `"disconnected"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Connected => "connected",
            ConnState::Disconnecting => "disconnecting",
            ConnState::Disconnected => "disconnected",
        }
    }
}

/// A state change to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The peer.
    pub peer: PeerId,
    /// Its new state.
    pub state: ConnState,
    /// For `disconnecting` and `disconnected`: why.
    pub reason: Option<String>,
}

/// States of peers that are not `disconnected`, and dials in flight per peer. Bounded by the
/// connected peers plus the pending dials.
#[derive(Debug, Default)]
pub struct StateBook {
    states: HashMap<PeerId, ConnState>,
    dials: HashMap<PeerId, usize>,
    closing: HashMap<PeerId, String>,
}

impl StateBook {
    /// The peer's state.
    pub fn get(&self, peer: &PeerId) -> ConnState {
        self.states
            .get(peer)
            .copied()
            .unwrap_or(ConnState::Disconnected)
    }

    fn set(
        &mut self,
        peer: PeerId,
        state: ConnState,
        reason: Option<String>,
    ) -> Option<Transition> {
        if self.get(&peer) == state {
            return None;
        }
        if state == ConnState::Disconnected {
            self.states.remove(&peer);
        } else {
            self.states.insert(peer, state);
        }
        Some(Transition {
            peer,
            state,
            reason,
        })
    }

    /// A dial of `peer` started.
    pub fn on_dialing(&mut self, peer: PeerId) -> Option<Transition> {
        *self.dials.entry(peer).or_default() += 1;
        match self.get(&peer) {
            ConnState::Disconnected => self.set(peer, ConnState::Connecting, None),
            _ => None,
        }
    }

    fn dial_done(&mut self, peer: &PeerId) -> usize {
        match self.dials.get_mut(peer) {
            Some(n) if *n > 1 => {
                *n -= 1;
                *n
            }
            Some(_) => {
                self.dials.remove(peer);
                0
            }
            None => 0,
        }
    }

    /// A dial of `peer` failed; the peer is `disconnected` if it was the last dial and nothing
    /// is connected.
    pub fn on_dial_failed(&mut self, peer: PeerId, reason: &str) -> Option<Transition> {
        let left = self.dial_done(&peer);
        if left == 0 && self.get(&peer) == ConnState::Connecting {
            return self.set(peer, ConnState::Disconnected, Some(reason.to_owned()));
        }
        None
    }

    /// A connection to `peer` is up (`dialled`: one of ours).
    pub fn on_connected(&mut self, peer: PeerId, dialled: bool) -> Option<Transition> {
        if dialled {
            self.dial_done(&peer);
        }
        match self.get(&peer) {
            ConnState::Connecting | ConnState::Disconnected => {
                self.set(peer, ConnState::Connected, None)
            }
            _ => None,
        }
    }

    /// This node starts closing every connection to `peer`.
    pub fn on_closing(&mut self, peer: PeerId, reason: &str) -> Option<Transition> {
        if self.get(&peer) != ConnState::Connected {
            return None;
        }
        self.closing.insert(peer, reason.to_owned());
        self.set(peer, ConnState::Disconnecting, Some(reason.to_owned()))
    }

    /// The last connection to `peer` closed (`cause`: the error, if any). Two transitions
    /// when a dial of the peer is still in flight (`disconnected`, then `connecting`).
    pub fn on_disconnected(&mut self, peer: PeerId, cause: Option<String>) -> Vec<Transition> {
        let reason = self
            .closing
            .remove(&peer)
            .or(cause)
            .unwrap_or_else(|| "closed".to_owned());
        let mut out: Vec<Transition> = self
            .set(peer, ConnState::Disconnected, Some(reason))
            .into_iter()
            .collect();
        if self.dials.contains_key(&peer) {
            out.extend(self.set(peer, ConnState::Connecting, None));
        }
        out
    }

    /// Everything dropped (the node stops).
    pub fn clear(&mut self) {
        self.states.clear();
        self.dials.clear();
        self.closing.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnState::*;

    fn states(ts: &[Option<Transition>]) -> Vec<ConnState> {
        ts.iter().flatten().map(|t| t.state).collect()
    }

    #[test]
    fn dial_connect_close() {
        let mut book = StateBook::default();
        let p = PeerId::random();
        let ts = [
            book.on_dialing(p),
            book.on_dialing(p),
            book.on_connected(p, true),
            book.on_connected(p, true),
            book.on_closing(p, "pruned"),
            book.on_disconnected(p, None).pop(),
        ];
        assert_eq!(
            states(&ts),
            [Connecting, Connected, Disconnecting, Disconnected]
        );
        assert_eq!(ts[5].as_ref().unwrap().reason.as_deref(), Some("pruned"));
        assert_eq!(book.get(&p), Disconnected);
    }

    #[test]
    fn failed_dials_end_in_disconnected_after_the_last() {
        let mut book = StateBook::default();
        let p = PeerId::random();
        let ts = [
            book.on_dialing(p),
            book.on_dialing(p),
            book.on_dial_failed(p, "refused"),
            book.on_dial_failed(p, "timeout"),
        ];
        assert_eq!(states(&ts), [Connecting, Disconnected]);
        assert_eq!(ts[3].as_ref().unwrap().reason.as_deref(), Some("timeout"));
    }

    #[test]
    fn inbound_and_remote_close() {
        let mut book = StateBook::default();
        let p = PeerId::random();
        let ts = [
            book.on_connected(p, false),
            book.on_disconnected(p, Some("reset".into())).pop(),
        ];
        assert_eq!(states(&ts), [Connected, Disconnected]);
        assert_eq!(ts[1].as_ref().unwrap().reason.as_deref(), Some("reset"));
    }
}
