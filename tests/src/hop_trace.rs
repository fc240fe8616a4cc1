//! Hop counts of Kademlia lookups. rust-libp2p does not report them, but it traces every answer
//! of a query ("Peer reported by source in query": which answering peer named which other peer).
//! [`HopTrace`] is a `tracing` layer that keeps those events for the queries it is told to watch,
//! with the peers each query started from, and [`hops_to`] rebuilds from them the shortest
//! chain of answers that led to the target.
//!
//! Which node a trace event belongs to comes from the span the node's task runs in
//! ([`node_span`]); query IDs are only unique per node.

use std::{
    collections::{HashMap, VecDeque},
    fmt::Debug,
    sync::{Arc, Mutex, OnceLock},
};

use libp2p::{kad::QueryId, PeerId};
use tracing::{
    field::{Field, Visit},
    span,
    subscriber::Interest,
    Event, Metadata, Subscriber,
};
use tracing_subscriber::{
    layer::{Context, SubscriberExt},
    registry::LookupSpan,
    Layer,
};

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

/// What is known of one watched query.
#[derive(Debug, Default, Clone)]
pub struct QueryTrace {
    /// The peers the query started from: the closest ones in the querier's own routing table.
    pub seeds: Vec<PeerId>,
    /// Every answer, in the order they came.
    pub reports: Vec<Report>,
}

/// The answers of watched queries, per (node, query). Clones share one store.
#[derive(Clone, Default)]
pub struct HopTrace {
    watched: Arc<Mutex<HashMap<QueryKey, QueryTrace>>>,
}

impl HopTrace {
    /// The process's trace, installed as its global `tracing` subscriber on the first call;
    /// `None` if another global subscriber was there first. Global rather than a thread's
    /// default: with several threads, a callsite first hit on a thread without the layer could
    /// stay disabled, and the answers of a lookup went unrecorded.
    pub fn global() -> Option<HopTrace> {
        static GLOBAL: OnceLock<Option<HopTrace>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let trace = HopTrace::default();
                let subscriber = tracing_subscriber::registry().with(trace.clone());
                tracing::subscriber::set_global_default(subscriber)
                    .ok()
                    .map(|()| trace)
            })
            .clone()
    }

    /// Start keeping the answers of query `query` of node `node`, which started from `seeds`
    /// (Kademlia's closest peers to the key in the node's table, at most 20). Returns false
    /// when [`MAX_WATCHED`] queries are already watched.
    pub fn watch(&self, node: usize, query: QueryId, seeds: Vec<PeerId>) -> bool {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        if watched.len() >= MAX_WATCHED {
            return false;
        }
        let trace = QueryTrace {
            seeds,
            reports: Vec::new(),
        };
        watched.insert((node as u64, format!("{query:?}")), trace);
        true
    }

    /// Stop watching the query and return what was seen of it.
    pub fn take(&self, node: usize, query: QueryId) -> QueryTrace {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched
            .remove(&(node as u64, format!("{query:?}")))
            .unwrap_or_default()
    }
}

/// The number of answers in the shortest chain that led the querier to `target`, counting only
/// answers that came before the target's own: 0 when the target was one of the query's
/// `seeds` (from the querier's own table), 1 when a seed named it, and so on. `None` when no
/// chain from the seeds reaches it.
pub fn hops_to(target: PeerId, trace: &QueryTrace) -> Option<u32> {
    if trace.seeds.contains(&target) {
        return Some(0);
    }
    let before = trace
        .reports
        .iter()
        .position(|(source, _)| *source == target)
        .map_or(&trace.reports[..], |i| &trace.reports[..i]);
    let mut named: HashMap<PeerId, Vec<PeerId>> = HashMap::new();
    for (source, peer) in before {
        named.entry(*source).or_default().push(*peer);
    }
    // Breadth first from the seeds: the first time a peer is reached is its shortest chain.
    let mut depth: HashMap<PeerId, u32> = trace.seeds.iter().map(|p| (*p, 0)).collect();
    let mut frontier: VecDeque<PeerId> = trace.seeds.iter().copied().collect();
    while let Some(peer) = frontier.pop_front() {
        let next = depth.get(&peer).copied().unwrap_or(0) + 1;
        for reached in named.get(&peer).into_iter().flatten() {
            if !depth.contains_key(reached) {
                if *reached == target {
                    return Some(next);
                }
                depth.insert(*reached, next);
                frontier.push_back(*reached);
            }
        }
    }
    None
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
        if watched
            .get(&key)
            .is_none_or(|t| t.reports.len() >= MAX_REPORTS)
        {
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
        if let (Some(peer), Ok(source), Some(trace)) = (
            node_id_in(&peer),
            source.parse::<PeerId>(),
            watched.get_mut(&key),
        ) {
            trace.reports.push((source, peer));
        }
    }
}
