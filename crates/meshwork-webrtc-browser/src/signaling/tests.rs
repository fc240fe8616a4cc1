//! The signaling protocol against fake peer connections over an in-memory pipe.

use std::{
    task::{Context, Poll},
    time::Duration,
};

use futures::{AsyncWriteExt as _, SinkExt as _, StreamExt as _};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt as _};

use super::{
    exchange::{self, PeerEvent, SdpKind, SignalStream, SignalingPeer},
    CandidateInit, Signal, SignalError, WireMessage, MAX_REMOTE_CANDIDATES, MAX_SIGNAL_BYTES,
};
use crate::Error;

type Pipe = Compat<tokio::io::DuplexStream>;

fn pipe() -> (SignalStream<Pipe>, SignalStream<Pipe>) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (exchange::framed(a.compat()), exchange::framed(b.compat()))
}

fn raw_pipe() -> (SignalStream<Pipe>, Pipe) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (exchange::framed(a.compat()), b.compat())
}

fn candidate(n: usize) -> CandidateInit {
    CandidateInit {
        candidate: format!(
            "candidate:{n} 1 udp 2122260223 10.99.0.1 {} typ host",
            50000 + n
        ),
        sdp_mid: Some("0".to_owned()),
        sdp_m_line_index: Some(0),
        username_fragment: Some("ufrag".to_owned()),
    }
}

/// A peer connection that "connects" once both descriptions are set and a remote candidate
/// arrived, and offers two local candidates after its local description is set.
struct FakePeer {
    name: &'static str,
    local: Option<(SdpKind, String)>,
    remote: Option<(SdpKind, String)>,
    to_send: Vec<CandidateInit>,
    added: Vec<CandidateInit>,
    /// Connect only after this many remote candidates (usize::MAX: never).
    connect_after: usize,
    fail: bool,
}

impl FakePeer {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            local: None,
            remote: None,
            to_send: Vec::new(),
            added: Vec::new(),
            connect_after: 1,
            fail: false,
        }
    }
}

impl SignalingPeer for FakePeer {
    async fn create_offer(&mut self) -> Result<String, Error> {
        Ok(format!("v=0\r\no=- {} offer\r\n", self.name))
    }
    async fn create_answer(&mut self) -> Result<String, Error> {
        if self.remote.is_none() {
            return Err(Error::Js {
                call: "createAnswer",
                message: "no remote offer".into(),
            });
        }
        Ok(format!("v=0\r\no=- {} answer\r\n", self.name))
    }
    async fn set_local_description(&mut self, kind: SdpKind, sdp: &str) -> Result<(), Error> {
        self.local = Some((kind, sdp.to_owned()));
        self.to_send = vec![candidate(1), candidate(2)];
        Ok(())
    }
    async fn set_remote_description(&mut self, kind: SdpKind, sdp: &str) -> Result<(), Error> {
        self.remote = Some((kind, sdp.to_owned()));
        Ok(())
    }
    async fn add_ice_candidate(&mut self, candidate: &CandidateInit) -> Result<(), Error> {
        self.added.push(candidate.clone());
        Ok(())
    }
    fn poll_event(&mut self, _cx: &mut Context<'_>) -> Poll<PeerEvent> {
        if self.fail {
            return Poll::Ready(PeerEvent::Ended(Error::PeerConnectionFailed));
        }
        if let Some(c) = self.to_send.pop() {
            return Poll::Ready(PeerEvent::LocalCandidate(Some(c)));
        }
        if self.local.is_some() && self.remote.is_some() && self.added.len() >= self.connect_after {
            return Poll::Ready(PeerEvent::Connected);
        }
        // Every state change comes from a call the exchange itself makes, after which it polls
        // again; the remote stream wakes it otherwise.
        Poll::Pending
    }
}

#[tokio::test]
async fn offer_and_answer_connect_both_sides() {
    let (a, b) = pipe();
    let (mut dialer, mut listener) = (FakePeer::new("dialer"), FakePeer::new("listener"));
    let (offered, answered) = futures::join!(
        exchange::offer(&mut dialer, a),
        exchange::answer(&mut listener, b)
    );
    offered.expect("dialer connected");
    answered.expect("listener connected");
    assert_eq!(
        listener.remote,
        Some((SdpKind::Offer, "v=0\r\no=- dialer offer\r\n".to_owned()))
    );
    assert_eq!(
        dialer.remote,
        Some((SdpKind::Answer, "v=0\r\no=- listener answer\r\n".to_owned()))
    );
    assert!(!dialer.added.is_empty() && !listener.added.is_empty());
    assert_eq!(dialer.added[0].sdp_mid.as_deref(), Some("0"));
}

#[tokio::test]
async fn remote_closing_mid_signaling_is_a_clean_error() {
    let (ours, theirs) = raw_pipe();
    let mut dialer = FakePeer::new("dialer");
    let remote = async move {
        let mut theirs = exchange::framed(theirs);
        let offer = theirs.next().await.expect("offer").expect("decodes");
        assert_eq!(offer.r#type, Some(0));
        drop(theirs); // the remote page goes away before answering
    };
    let (result, ()) = futures::join!(exchange::offer(&mut dialer, ours), remote);
    assert!(matches!(result, Err(Error::SignalingClosed)), "{result:?}");
}

#[tokio::test]
async fn garbage_on_the_stream_is_refused() {
    let (ours, mut theirs) = raw_pipe();
    let mut listener = FakePeer::new("listener");
    theirs.write_all(&[0xff; 12]).await.expect("write");
    let result = exchange::answer(&mut listener, ours).await;
    assert!(
        matches!(result, Err(Error::SignalingStream(_))),
        "{result:?}"
    );
    assert!(
        listener.remote.is_none(),
        "nothing reached the peer connection"
    );
}

#[tokio::test]
async fn oversized_message_is_refused_before_it_is_buffered() {
    let (ours, mut theirs) = raw_pipe();
    let mut listener = FakePeer::new("listener");
    let mut prefix = unsigned_varint::encode::usize_buffer();
    let prefix = unsigned_varint::encode::usize(MAX_SIGNAL_BYTES + 1, &mut prefix).to_vec();
    theirs.write_all(&prefix).await.expect("write");
    let result = exchange::answer(&mut listener, ours).await;
    assert!(
        matches!(result, Err(Error::SignalingStream(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn messages_out_of_order_are_refused() {
    let (ours, theirs) = raw_pipe();
    let mut listener = FakePeer::new("listener");
    let mut theirs = exchange::framed(theirs);
    theirs
        .send(Signal::Answer("v=0\r\n".into()).to_wire())
        .await
        .expect("send");
    let result = exchange::answer(&mut listener, ours).await;
    assert!(
        matches!(
            result,
            Err(Error::UnexpectedSignal {
                expected: "an SDP offer",
                got: "an SDP answer"
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn malformed_candidate_is_refused() {
    let (ours, theirs) = raw_pipe();
    let mut listener = FakePeer::new("listener");
    listener.connect_after = usize::MAX;
    let mut theirs = exchange::framed(theirs);
    theirs
        .send(Signal::Offer("v=0\r\n".into()).to_wire())
        .await
        .expect("send");
    theirs
        .send(WireMessage {
            r#type: Some(2),
            data: Some("{not json".into()),
        })
        .await
        .expect("send");
    let result = exchange::answer(&mut listener, ours).await;
    assert!(
        matches!(result, Err(Error::Signal(SignalError::BadCandidate(_)))),
        "{result:?}"
    );
}

#[tokio::test]
async fn failing_peer_connection_ends_the_exchange() {
    let (a, b) = pipe();
    let mut dialer = FakePeer::new("dialer");
    let mut listener = FakePeer::new("listener");
    listener.connect_after = usize::MAX;
    dialer.connect_after = usize::MAX;
    dialer.fail = true;
    let outcome = tokio::time::timeout(
        Duration::from_secs(5),
        futures::future::select(
            Box::pin(exchange::offer(&mut dialer, a)),
            Box::pin(exchange::answer(&mut listener, b)),
        ),
    )
    .await
    .expect("no hang");
    match outcome {
        futures::future::Either::Left((result, _)) => {
            assert!(
                matches!(result, Err(Error::PeerConnectionFailed)),
                "{result:?}"
            )
        }
        futures::future::Either::Right(_) => panic!("the listener cannot finish first"),
    }
}

#[tokio::test]
async fn remote_candidates_beyond_the_limit_are_ignored() {
    let (ours, theirs) = raw_pipe();
    let mut listener = FakePeer::new("listener");
    listener.connect_after = usize::MAX;
    let mut theirs = exchange::framed(theirs);
    let flood = async {
        theirs
            .send(Signal::Offer("v=0\r\n".into()).to_wire())
            .await
            .expect("send");
        for n in 0..MAX_REMOTE_CANDIDATES + 36 {
            theirs
                .send(Signal::Candidate(Some(candidate(n))).to_wire())
                .await
                .expect("send");
        }
        theirs
    };
    let attempt = tokio::time::timeout(
        Duration::from_millis(300),
        exchange::answer(&mut listener, ours),
    );
    let (result, _theirs) = futures::join!(attempt, flood);
    assert!(
        result.is_err(),
        "never connects, so the caller's timeout ends it"
    );
    assert_eq!(listener.added.len(), MAX_REMOTE_CANDIDATES);
}

#[test]
fn candidates_use_the_browser_json_shape() {
    let wire = Signal::Candidate(Some(candidate(7))).to_wire();
    let json: serde_json::Value =
        serde_json::from_str(wire.data.as_deref().expect("data")).expect("json");
    assert_eq!(json["sdpMid"], "0");
    assert_eq!(json["sdpMLineIndex"], 0);
    assert_eq!(json["usernameFragment"], "ufrag");
    assert!(json["candidate"]
        .as_str()
        .expect("text")
        .starts_with("candidate:7 "));
    let back = Signal::from_wire(wire).expect("valid");
    assert_eq!(back, Signal::Candidate(Some(candidate(7))));
}

#[test]
fn end_of_candidates_forms_are_understood() {
    for data in ["null", "\"\"", r#"{"candidate":"","sdpMid":"0"}"#] {
        let message = WireMessage {
            r#type: Some(2),
            data: Some(data.into()),
        };
        assert_eq!(
            Signal::from_wire(message),
            Ok(Signal::Candidate(None)),
            "{data}"
        );
    }
}

#[test]
fn bad_messages_are_named() {
    let msg = |t: Option<i32>, d: &str| WireMessage {
        r#type: t,
        data: Some(d.into()),
    };
    assert_eq!(
        Signal::from_wire(msg(None, "v=0")),
        Err(SignalError::UnknownType(None))
    );
    assert_eq!(
        Signal::from_wire(msg(Some(9), "v=0")),
        Err(SignalError::UnknownType(Some(9)))
    );
    assert_eq!(
        Signal::from_wire(msg(Some(0), "hello")),
        Err(SignalError::BadSdp)
    );
    assert_eq!(
        Signal::from_wire(msg(Some(1), "")),
        Err(SignalError::BadSdp)
    );
    assert!(matches!(
        Signal::from_wire(msg(Some(2), "[1,2]")),
        Err(SignalError::BadCandidate(_))
    ));
    assert_eq!(
        Signal::from_wire(msg(Some(0), "v=0\r\n")),
        Ok(Signal::Offer("v=0\r\n".into()))
    );
}
