//! `meshwork-peer`: a native meshwork node driven by JSON lines, for end-to-end tests, the
//! benchmark and trying things out.
//!
//! stdout, one JSON object per line: `ready` {peerId, addresses}, `peer:connect`
//! {peerId, transport, address}, `peer:disconnect`, `subscription` {peerId, topic, subscribed},
//! `message` {topic, from, text, dataBase64, receivedAtMs}, `published` {id, topic, ref},
//! `error` {code, message, ref}.
//!
//! stdin, one JSON object per line: `{"cmd":"publish","topic":"t","text":"hi"}` (or
//! `"dataBase64"`), `{"cmd":"dial","address":"/ip4/…"}`, `{"cmd":"subscribe","topic":"t"}`,
//! `{"cmd":"unsubscribe","topic":"t"}`. An optional `"ref"` is echoed in the answer. Bad lines
//! get an `error` line; the peer keeps running. EOF on stdin stops it.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use clap::Parser;
use futures::StreamExt;
use libp2p::identity::Keypair;
use meshwork_core::{
    event_loop::EventLoop, validate, CoreError, ErrorCode, Event, NodeConfig, NodeHandle,
};
use meshwork_relay::native_swarm;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A native meshwork peer driven by JSON lines on stdin/stdout.
#[derive(Debug, Parser)]
#[command(name = "meshwork-peer", version)]
struct Cli {
    /// Multiaddr to dial at start; repeat for more.
    #[arg(long = "dial", value_name = "MULTIADDR")]
    dial: Vec<String>,
    /// Topic to subscribe to at start; repeat for more.
    #[arg(long = "topic", value_name = "TOPIC")]
    topics: Vec<String>,
    /// Multiaddr to listen on; repeat for more (default: none).
    #[arg(long = "listen", value_name = "MULTIADDR")]
    listen: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase", deny_unknown_fields)]
enum Input {
    Publish {
        topic: String,
        text: Option<String>,
        #[serde(rename = "dataBase64")]
        data_base64: Option<String>,
        #[serde(rename = "ref")]
        reference: Option<Value>,
    },
    Dial {
        address: String,
        #[serde(rename = "ref")]
        reference: Option<Value>,
    },
    Subscribe {
        topic: String,
        #[serde(rename = "ref")]
        reference: Option<Value>,
    },
    Unsubscribe {
        topic: String,
        #[serde(rename = "ref")]
        reference: Option<Value>,
    },
}

fn out(value: Value) {
    println!("{value}");
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn error_line(e: &CoreError, reference: Option<Value>) {
    out(
        json!({ "event": "error", "code": e.code.as_str(), "message": e.message, "ref": reference }),
    );
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = NodeConfig::default();
    let swarm = match native_swarm::build(
        Keypair::generate_ed25519(),
        &config,
        None,
        &Default::default(),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meshwork-peer: {e}");
            std::process::exit(1);
        }
    };
    let (event_loop, node, events) = EventLoop::new(swarm, config);
    tokio::spawn(event_loop.run());
    tokio::spawn(print_events(events));

    for address in &cli.listen {
        if let Err(e) = start_listen(&node, address).await {
            error_line(&e, None);
        }
    }
    for topic in &cli.topics {
        if let Err(e) = node.subscribe(topic.clone()).await {
            error_line(&e, None);
        }
    }
    let addresses: Vec<String> = node
        .listen_addrs()
        .await
        .unwrap_or_default()
        .iter()
        .map(|a| a.to_string())
        .collect();
    out(
        json!({ "event": "ready", "peerId": node.local_peer_id().to_string(), "addresses": addresses }),
    );
    for address in &cli.dial {
        dial(&node, address, None).await;
    }

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Input>(&line) {
            Ok(input) => handle(&node, input).await,
            Err(e) => error_line(
                &CoreError::new(ErrorCode::InvalidOptions, format!("bad input line: {e}")),
                None,
            ),
        }
    }
    let _ = node.shutdown().await;
}

async fn start_listen(node: &NodeHandle, address: &str) -> Result<(), CoreError> {
    node.listen(validate::multiaddr(address)?).await
}

async fn dial(node: &NodeHandle, address: &str, reference: Option<Value>) {
    let result = match validate::multiaddr(address) {
        Ok(a) => node.dial(a).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(peer) => out(json!({ "event": "dialed", "peerId": peer.to_string(), "ref": reference })),
        Err(e) => error_line(&e, reference),
    }
}

async fn handle(node: &NodeHandle, input: Input) {
    match input {
        Input::Publish {
            topic,
            text,
            data_base64,
            reference,
        } => {
            let data = match (text, data_base64) {
                (Some(t), None) => Ok(t.into_bytes()),
                (None, Some(b)) => B64.decode(b).map_err(|e| {
                    CoreError::new(ErrorCode::InvalidPayload, format!("dataBase64: {e}"))
                }),
                _ => Err(CoreError::new(
                    ErrorCode::InvalidPayload,
                    "give exactly one of text, dataBase64",
                )),
            };
            let result = match data {
                Ok(d) => node.publish(topic.clone(), d).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(id) => {
                    out(json!({ "event": "published", "id": id, "topic": topic, "ref": reference }))
                }
                Err(e) => error_line(&e, reference),
            }
        }
        Input::Dial { address, reference } => dial(node, &address, reference).await,
        Input::Subscribe { topic, reference } => match node.subscribe(topic).await {
            Ok(_) => out(json!({ "event": "subscribed", "ref": reference })),
            Err(e) => error_line(&e, reference),
        },
        Input::Unsubscribe { topic, reference } => match node.unsubscribe(topic).await {
            Ok(_) => out(json!({ "event": "unsubscribed", "ref": reference })),
            Err(e) => error_line(&e, reference),
        },
    }
}

async fn print_events(mut events: meshwork_core::EventReceiver) {
    while let Some(event) = events.next().await {
        let line = match event {
            Event::PeerConnected {
                peer_id,
                transport,
                address,
            } => json!({
                "event": "peer:connect", "peerId": peer_id.to_string(), "transport": transport.as_str(),
                "address": address.to_string(), "atMs": now_ms() }),
            Event::PeerDisconnected {
                peer_id,
                transport,
                cause,
            } => json!({
                "event": "peer:disconnect", "peerId": peer_id.to_string(), "transport": transport.as_str(),
                "cause": cause }),
            Event::Subscription {
                peer_id,
                topic,
                subscribed,
            } => json!({
                "event": "subscription", "peerId": peer_id.to_string(), "topic": topic, "subscribed": subscribed }),
            Event::Message {
                topic,
                source,
                data,
                id,
                ..
            } => json!({
                "event": "message", "topic": topic, "from": source.map(|s| s.to_string()), "id": id,
                "text": String::from_utf8_lossy(&data), "dataBase64": B64.encode(&data), "receivedAtMs": now_ms() }),
            Event::ListenAddr { address } => {
                json!({ "event": "listen", "address": address.to_string() })
            }
            Event::Error { error } => {
                json!({ "event": "error", "code": error.code.as_str(), "message": error.message })
            }
            Event::RelayReservation {
                relay_peer_id,
                renewal,
            } => json!({
                "event": "relay:reservation", "relayPeerId": relay_peer_id.to_string(), "renewal": renewal }),
            Event::ListenAddrExpired { .. } => continue,
        };
        out(line);
    }
}
