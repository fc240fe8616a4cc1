//! Peer routing details the DHT benchmarks rely on: a DHT server the querier already has in its
//! routing table is found from the table (not from its signed record), and the Kademlia-only
//! simulation (`kad_sim`) finds its peers with hop counts read from rust-libp2p's own trace.

use std::time::Duration;

use libp2p::PeerId;
use meshwork_core::NodeConfig;
use meshwork_tests::{
    hop_trace::{hops_to, HopTrace},
    kad_sim::{KadNode, SimOptions},
    sim::{server_config, Lcg},
    spawn_node, EVENT_DEADLINE,
};
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_in_the_routing_table_is_found_without_its_record() {
    let a = spawn_node(server_config()).await;
    let b = spawn_node(server_config()).await;
    a.handle.dial(b.full_address()).await.expect("dial");
    // Once identify has put B in A's table, A's lookup asks B itself; Kademlia reports B with
    // no addresses then, and findPeer takes them from the table.
    let found = tokio::time::timeout(EVENT_DEADLINE, async {
        loop {
            if let Ok(found) = a.handle.find_peer(b.peer_id()).await {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("B found");
    assert!(!found.from_record, "found through its record: {found:?}");
    assert!(
        found
            .addresses
            .iter()
            .any(|a| a.to_string().starts_with(&b.address.to_string())),
        "{found:?}"
    );
}

#[test]
fn hops_follow_the_shortest_chain_of_answers() {
    let [q1, q2, x, y, target] = [(); 5].map(|_| PeerId::random());
    // The querier knew q1 and q2; q1 named x, x named y, y named the target.
    let long = [(q1, x), (q2, x), (x, y), (y, target)];
    assert_eq!(hops_to(target, &long), Some(3));
    // Later, q2 names the target directly: the shorter chain counts.
    let mut shorter = long.to_vec();
    shorter.push((q2, target));
    assert_eq!(hops_to(target, &shorter), Some(1));
    // The querier's own table had the target: it only ever answers.
    assert_eq!(hops_to(target, &[(target, x), (q1, y)]), Some(0));
    assert_eq!(hops_to(target, &[(q1, x)]), None);
}

/// The nodes' tasks run on this test's one thread, so the trace layer set as this thread's
/// default sees every node's events.
#[tokio::test(flavor = "current_thread")]
async fn kademlia_only_nodes_find_each_other_with_traced_hops() {
    let trace = HopTrace::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(trace.clone()));
    let config = NodeConfig {
        kad_mode: meshwork_core::KadMode::Server,
        ..NodeConfig::default()
    };
    let options = SimOptions {
        idle: Duration::from_secs(60),
        periodic_bootstrap: false,
    };
    let mut rng = Lcg(3);
    let mut nodes: Vec<KadNode> = Vec::new();
    for index in 0..30 {
        let node = KadNode::start(index, &config, &options, Some(trace.clone()))
            .await
            .expect("node starts");
        node.join(&nodes, &mut rng).await.expect("dial");
        nodes.push(node);
    }
    let mut hop_counts = Vec::new();
    for _ in 0..20 {
        let from = rng.below(nodes.len());
        let to = (from + 1 + rng.below(nodes.len() - 1)) % nodes.len();
        // Tables fill as the nodes bootstrap: retry until found, within the deadline.
        let outcome = tokio::time::timeout(EVENT_DEADLINE, async {
            loop {
                let outcome = nodes[from]
                    .find_peer(nodes[to].peer_id)
                    .await
                    .expect("node runs");
                if outcome.found {
                    return outcome;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("node {from} did not find node {to}"));
        assert!(outcome.requests >= 1, "{outcome:?}");
        hop_counts.push(outcome.hops.expect("the trace names the target"));
    }
    // Thirty nodes fit in a few buckets of 20: every target is at most a couple of answers away.
    assert!(hop_counts.iter().all(|&h| h <= 3), "{hop_counts:?}");
}
