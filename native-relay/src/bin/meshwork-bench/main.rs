//! `meshwork-bench`: the native benchmarks behind `bench/run.sh` (not tests). Each subcommand
//! runs one scenario on real sockets and prints one JSON line with its figures (or exits with
//! status 1 and an error line):
//!
//! - `reach`: gossip reach in a network of native nodes (time until all have a message);
//! - `circuit`: perf throughput through a running meshwork-relay, direct TCP and raw TCP;
//! - `load`: many clients on one relay (connections held, failures, time, relay memory).

mod circuit;
mod load;
mod nodes;
mod reach;

use clap::{Parser, Subcommand};

/// Native meshwork benchmarks; each prints one JSON line.
#[derive(Debug, Parser)]
#[command(name = "meshwork-bench", version)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Gossip reach: N nodes, one publishes, time until every node has each message.
    Reach(reach::ReachArgs),
    /// Throughput through a relay circuit next to direct and raw loopback TCP.
    Circuit(circuit::CircuitArgs),
    /// Many clients on one relay.
    Load(load::LoadArgs),
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    meshwork_relay::native_swarm::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("meshwork-bench: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.bench {
            Bench::Reach(args) => reach::run(args).await,
            Bench::Circuit(args) => circuit::run(args).await,
            Bench::Load(args) => load::run(args).await,
        }
    });
    match outcome {
        Ok(figures) => println!("{figures}"),
        Err(e) => {
            println!("{}", serde_json::json!({ "error": e }));
            std::process::exit(1);
        }
    }
    // The nodes' tasks are not joined: the process ends here.
    runtime.shutdown_background();
}
