//! Hop counts of Kademlia lookups. rust-libp2p does not report them, but it traces every answer
//! of a query ("Peer reported by source in query": which answering peer named which other peer).
//! [`HopTrace`] is a `tracing` layer that keeps those events for the queries it is told to watch,
//! and [`hops_to`] rebuilds from them the chain of answers that led to the target.
//!
//! Which node a trace event belongs to comes from the span the node's task runs in
//! ([`node_span`]); query IDs are only unique per node.

use std::{
    collections::HashMap,
    fmt::Debug,
    sync::{Arc, Mutex},
};

use libp2p::{kad::QueryId, PeerId};
use tracing::{
    field::{Field, Visit},
    span,
    subscriber::Interest,
    Event, Metadata, Subscriber,
};
use tracing_subscriber::{layer::Context, registry::LookupSpan, Layer};

/// Name of the span a traced node's task runs in.
const NODE_SPAN: &str = "kad_node";

/// Queries watched at once, at most (the benchmark runs one lookup at a time; the bound only
/// keeps a forgotten watch from growing the map).
pub const MAX_WATCHED: usize = 1024;

/// Answers kept per watched query, at most (a lookup with 20 closest peers asks a few dozen
/// peers, each naming up to 20).
pub const MAX_REPORTS: usize = 4096;

/// One answer seen in a query: `source` named `peer` as closer to the key.
pub type Report = (PeerId, PeerId);

/// The span to run node `index`'s task in, so that its trace events are attributed to it.
pub fn node_span(index: usize) -> tracing::Span {
    tracing::info_span!(target: "meshwork_tests::hop_trace", NODE_SPAN, node = index as u64)
}

/// A watched query: the node's index and the query ID as Kademlia's trace prints it.
type QueryKey = (u64, String);

/// The answers of watched queries, per (node, query). Clones share one store.
#[derive(Clone, Default)]
pub struct HopTrace {
    watched: Arc<Mutex<HashMap<QueryKey, Vec<Report>>>>,
}

impl HopTrace {
    /// Start keeping the answers of query `query` of node `node`. Returns false when
    /// [`MAX_WATCHED`] queries are already watched.
    pub fn watch(&self, node: usize, query: QueryId) -> bool {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        if watched.len() >= MAX_WATCHED {
            return false;
        }
        watched.insert((node as u64, format!("{query:?}")), Vec::new());
        true
    }

    /// Stop watching the query and return its answers, in the order they came.
    pub fn take(&self, node: usize, query: QueryId) -> Vec<Report> {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched
            .remove(&(node as u64, format!("{query:?}")))
            .unwrap_or_default()
    }
}

/// The number of answers in the shortest chain that named `target`, starting from peers the
/// querier knew itself: 0 when the querier's own routing table had the target (it then appears
/// only as a source), 1 when a peer it knew named the target, and so on. `None` when the
/// target never appears. `reports` must be in arrival order (a peer answers only after it was
/// named, so every source's depth is known when its answer comes).
pub fn hops_to(target: PeerId, reports: &[Report]) -> Option<u32> {
    let mut depth: HashMap<PeerId, u32> = HashMap::new();
    for (source, peer) in reports {
        let from = *depth.entry(*source).or_insert(0);
        let d = depth.entry(*peer).or_insert(from + 1);
        *d = (*d).min(from + 1);
    }
    depth.get(&target).copied()
}

/// Whether `metadata` is kad's "Peer reported by source in query" event (the only kad event
/// with all three fields) or our node span.
fn wanted(metadata: &Metadata<'_>) -> bool {
    if metadata.is_span() {
        return metadata.name() == NODE_SPAN;
    }
    let fields = metadata.fields();
    metadata.target().starts_with("libp2p_kad")
        && ["peer", "source", "query"]
            .iter()
            .all(|f| fields.field(f).is_some())
}

/// The node index a span was made with.
struct NodeIndex(u64);

/// The fields read from a span or event. Only the `query` field is read at first
/// (`all` false): most answers belong to queries nobody watches (Kademlia's own bootstrap), and
/// formatting their peers would cost more than the lookups measured.
#[derive(Default)]
struct Fields {
    all: bool,
    node: Option<u64>,
    peer: Option<String>,
    source: Option<String>,
    query: Option<String>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "node" {
            self.node = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        match field.name() {
            "query" => self.query = Some(format!("{value:?}")),
            "peer" if self.all => self.peer = Some(format!("{value:?}")),
            "source" if self.all => self.source = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

/// The peer ID inside a `KadPeer`'s debug text (`KadPeer { node_id: PeerId("12D3…"), … }`).
fn node_id_in(kad_peer: &str) -> Option<PeerId> {
    let start = kad_peer.find("PeerId(\"")? + "PeerId(\"".len();
    let end = start + kad_peer[start..].find('"')?;
    kad_peer[start..end].parse().ok()
}

impl<S> Layer<S> for HopTrace
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if wanted(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted(metadata)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(node), Some(span)) = (fields.node, ctx.span(id)) {
            span.extensions_mut().insert(NodeIndex(node));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(node) = ctx.event_scope(event).and_then(|scope| {
            scope
                .into_iter()
                .find_map(|span| span.extensions().get::<NodeIndex>().map(|n| n.0))
        }) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let Some(query) = fields.query else {
            return;
        };
        let key = (node, query);
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        if watched.get(&key).is_none_or(|r| r.len() >= MAX_REPORTS) {
            return;
        }
        let mut fields = Fields {
            all: true,
            ..Fields::default()
        };
        event.record(&mut fields);
        let (Some(peer), Some(source)) = (fields.peer, fields.source) else {
            return;
        };
        if let (Some(peer), Ok(source), Some(reports)) = (
            node_id_in(&peer),
            source.parse::<PeerId>(),
            watched.get_mut(&key),
        ) {
            reports.push((source, peer));
        }
    }
}
