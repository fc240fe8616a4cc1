//! Peer routing details the DHT benchmarks rely on: a DHT server the querier already has in its
//! routing table is found from the table (not from its signed record), and the Kademlia-only
//! simulation (`kad_sim`) finds its peers with hop counts read from rust-libp2p's own trace.

use std::time::Duration;

use libp2p::PeerId;
use meshwork_core::NodeConfig;
use meshwork_tests::{
    hop_trace::{hops_to, HopTrace, QueryTrace},
    kad_sim::{KadNode, SimOptions},
    sim::{server_config, Lcg},
    spawn_node, EVENT_DEADLINE,
};

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
    let b_full = b.full_address();
    assert!(found.addresses.contains(&b_full), "{found:?}");
}

#[test]
fn hops_follow_the_shortest_chain_of_answers_before_the_targets_own() {
    let [q1, q2, x, y, target] = [(); 5].map(|_| PeerId::random());
    let trace = |seeds: &[PeerId], reports: &[(PeerId, PeerId)]| QueryTrace {
        seeds: seeds.to_vec(),
        reports: reports.to_vec(),
    };
    // The querier started from q1 and q2; q1 named x, x named y, y named the target.
    let long = [(q1, x), (q2, x), (x, y), (y, target)];
    assert_eq!(hops_to(target, &trace(&[q1, q2], &long)), Some(3));
    // q2 also named the target, after the long chain's answers: the shorter chain counts.
    let mut shorter = long.to_vec();
    shorter.push((q2, target));
    assert_eq!(hops_to(target, &trace(&[q1, q2], &shorter)), Some(1));
    // A seed named by another answer first is still a seed (Kademlia asks three at once).
    let seed_named_first = [(q1, q2), (q2, target)];
    assert_eq!(
        hops_to(target, &trace(&[q1, q2], &seed_named_first)),
        Some(1)
    );
    // The target was a seed: 0, even when an answer named it before it answered.
    let named_seed = [(q1, target), (target, x)];
    assert_eq!(hops_to(target, &trace(&[q1, target], &named_seed)), Some(0));
    // Answers after the target's own do not count.
    let late = [(q1, x), (target, y), (q2, target)];
    assert_eq!(hops_to(target, &trace(&[q1, q2], &late)), None);
    assert_eq!(hops_to(target, &trace(&[q1], &[(q1, x)])), None);
}

/// The only test of this binary that runs Kademlia-only nodes (node indexes key the trace).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kademlia_only_nodes_find_each_other_with_traced_hops() {
    let trace = HopTrace::global().expect("no other global tracing subscriber in this binary");
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
