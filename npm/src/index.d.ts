/** Stable error codes carried by every MeshworkError. */
export declare const ErrorCode: Readonly<{
  INVALID_MULTIADDR: 'INVALID_MULTIADDR'
  INVALID_TOPIC: 'INVALID_TOPIC'
  INVALID_PAYLOAD: 'INVALID_PAYLOAD'
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE'
  INVALID_OPTIONS: 'INVALID_OPTIONS'
  NODE_STOPPED: 'NODE_STOPPED'
  DIAL_FAILED: 'DIAL_FAILED'
  NO_PEERS: 'NO_PEERS'
  PUBLISH_FAILED: 'PUBLISH_FAILED'
  LIMIT_REACHED: 'LIMIT_REACHED'
  FETCH_FAILED: 'FETCH_FAILED'
  START_FAILED: 'START_FAILED'
  PANIC: 'PANIC'
  INVALID_PEER_ID: 'INVALID_PEER_ID'
  STREAM_FAILED: 'STREAM_FAILED'
  BACKPRESSURE: 'BACKPRESSURE'
  INVALID_NAMESPACE: 'INVALID_NAMESPACE'
  DISCOVERY_FAILED: 'DISCOVERY_FAILED'
  NOT_FOUND: 'NOT_FOUND'
  PEER_ID_MISMATCH: 'PEER_ID_MISMATCH'
}>

/** One of the stable error code strings. */
export type ErrorCodeName = keyof typeof ErrorCode

/** Every rejection from this package. */
export declare class MeshworkError extends Error {
  constructor (code: ErrorCodeName, message: string)
  readonly name: 'MeshworkError'
  /** Stable, machine-readable. */
  readonly code: ErrorCodeName
}

/** A browser transport name. */
export type BrowserTransport = 'webtransport' | 'webrtc-direct' | 'websocket'

/** Core node settings; every field optional, defaults documented in meshwork-core's NodeConfig. */
export interface CoreOptions {
  protocolVersion?: string
  agentVersion?: string
  pingIntervalSecs?: number
  /** Seconds a ping waits for its pong; a connection whose ping fails is closed. Default 20. */
  pingTimeoutSecs?: number
  kadMode?: 'server' | 'client' | 'auto'
  gossip?: {
    /** Largest gossip message, bytes (larger payloads are chunked). Default 65536. */
    maxMessageBytes?: number
    /** Default 700. */
    heartbeatIntervalMs?: number
    /** Default true. */
    floodPublish?: boolean
    /** Default 64. */
    maxTopics?: number
    /** Default 128. */
    maxRemoteTopics?: number
    /** Default false. */
    followPeerTopics?: boolean
    /** Inbound rate limits per author and in total (defaults 10/s burst 20, 1000/s burst 2000, 8 MiB/s burst 16 MiB per author). */
    flood?: { perPeerMessagesPerSec?: number, perPeerBurst?: number, globalMessagesPerSec?: number, globalBurst?: number, perPeerBytesPerSec?: number, perPeerBytesBurst?: number, maxTrackedPeers?: number }
    /** Reputation per peer and bans (defaults: +1 valid, −10 rejected, −1 rate-limited, ban at −100 for 600 s). */
    reputation?: { validDelta?: number, rejectedDelta?: number, rateLimitedDelta?: number, ignoredDelta?: number, max?: number, min?: number, banThreshold?: number, banSecs?: number, decayPerMinute?: number, maxTracked?: number, maxBans?: number }
    /** Large payloads (defaults: 16 MiB max payload, 16 incomplete sets, 4 per author, 64 MiB held, 30 s timeout). */
    chunks?: { maxPayloadBytes?: number, maxPendingSets?: number, maxPendingSetsPerAuthor?: number, maxPendingBytes?: number, setTimeoutMs?: number }
    /** Publish pacing, bytes/s (defaults 8 MiB initial, 256 KiB min, 256 MiB max, +1 MiB per second). */
    pacer?: { initialBytesPerSec?: number, minBytesPerSec?: number, maxBytesPerSec?: number, increaseBytesPerSec?: number }
    /** Default 2000. */
    validationTimeoutMs?: number
    /** Default 1024. */
    maxPendingValidations?: number
    /** Default 1024. */
    publishQueuePerTopic?: number
    /** Default 33554432 (32 MiB). */
    publishQueueBytes?: number
    /** Default true. */
    peerScoring?: boolean
  }
  limits?: {
    maxEstablished?: number
    maxEstablishedPerPeer?: number
    maxPendingIncoming?: number
    maxPendingOutgoing?: number
    commandQueue?: number
    eventQueue?: number
    /** A connection with no open stream is closed after this many seconds (1 to 86,400). Default 60. */
    idleConnectionTimeoutSecs?: number
    /** Inbound connections from one IP address (0: no limit). Default 64. */
    maxConnectionsPerIp?: number
    /** Loopback is not limited per IP. Default true. */
    perIpExemptLoopback?: boolean
  }
  /** How many peers to keep, pruning and redials (see `addPeer`, `listPeers`, `peer:state`). */
  connections?: {
    /** Peers wanted; below it, bootstrap peers are redialled. Default 16. */
    target?: number
    /** Above it, the least useful unprotected peers are closed down to `target`. Default 48. */
    max?: number
    /** A connection younger than this is never pruned, seconds. Default 30. */
    graceSecs?: number
    /** First redial delay, ms (doubles per failure, jitter takes up to half off). Default 1000. */
    reconnectBaseMs?: number
    /** Longest redial delay, seconds. Default 60. */
    reconnectMaxSecs?: number
    /** Kept peers (bootstrap, relays, added). Default 64. */
    maxKeptPeers?: number
    /** Relays reserved on at once, the best of those kept (1 to 8). Default 2. */
    relayReservations?: number
  }
  /** Kademlia records (see `putRecord`, `getRecord`, `findPeer`). */
  dht?: {
    /** Lifetime of a stored record at the nodes holding it, seconds (at least 60). Default 3600. */
    recordTtlSecs?: number
    /** Records stored. Default 1024. */
    maxRecords?: number
    /** Largest record value, bytes (at most 14336). Default 8192. */
    maxValueBytes?: number
    /** Own records (the signed peer record included) are put again this often, seconds. Default 600. */
    peerRecordIntervalSecs?: number
    /** One query's time limit, seconds. Default 30. */
    queryTimeoutSecs?: number
  }
  /** The service registry (see `registerService`, `findService`). */
  services?: {
    /** Join the services gossip topic: `service:announced` / `service:departed` events, own announcements. Default true. */
    gossip?: boolean
    /** Service records heard and kept. Default 256. */
    maxCachedRecords?: number
    /** Services this node may register at once (at most 256). Default 16. */
    maxRegistered?: number
    /** DHT servers that must store a registration or departure (1 to 20). Default 1. */
    quorum?: number
  }
  /** Peer exchange over gossip: announce our signed peer record, hear the others' (`peer:discovery`, source `gossip`). */
  peerExchange?: {
    /** Default true. */
    enabled?: boolean
    /** How often we announce ourselves, seconds (10 to 3600; also within 10 s of an address change). Default 30. */
    intervalSecs?: number
    /** Peers whose newest record is kept. Default 1024. */
    maxKnownPeers?: number
    /** Dial announced peers while below `connections.target`. Default false. */
    dial?: boolean
  }
  /** Rendezvous namespaces (see `register` and `discover`). */
  rendezvous?: {
    /** Lifetime asked for when `register` names none, seconds (10 to 259200). Default 300; refreshed at half the granted lifetime. */
    defaultTtlSecs?: number
    /** Namespaces registered under at once. Default 32. */
    maxNamespaces?: number
    /** Peers remembered per discovered namespace. Default 1000. */
    maxPeersPerNamespace?: number
    /** Discovered namespaces remembered (least recently used forgotten first). Default 64. */
    maxDiscoveredNamespaces?: number
    /** How long `register` and `discover` wait for the rendezvous points, seconds (1 to 300). Default 10. */
    timeoutSecs?: number
  }
}

/** Options of createNode. */
export interface NodeOptions {
  /** Multiaddrs to dial at start, each ending in /p2p/<peerId>. */
  bootstrap?: string[]
  /** A meshwork-relay's HTTP base URL (e.g. "http://127.0.0.1:8080"); its current multiaddrs are fetched from /api/addresses. */
  relayHttp?: string
  /**
   * More relays' multiaddrs (each ending in /p2p/<peerId>, at most 32). Every relay is kept
   * connected; the page reserves on the best `node.connections.relayReservations` (2) of them
   * (shortest round trip among those with room) and moves when one goes away.
   */
  relays?: string[]
  /** Transports to use, in order of preference. Default ["webtransport", "webrtc-direct", "websocket"]. */
  transports?: BrowserTransport[]
  /** Reserve slots on relays (from relayHttp and relays) so others can reach this page. Default true. */
  reserveOnRelay?: boolean
  /** Core settings. */
  node?: CoreOptions
  /** Browser-to-browser WebRTC and the page's WebRTC limits. */
  webrtc?: WebrtcOptions
  /**
   * Log to the browser console: a level (`"info"`) or per-target levels
   * (`"warn,libp2p_gossipsub=debug"`). Default: no logging. The first node in a page that sets
   * it decides for the whole page.
   */
  logLevel?: string
  /**
   * Keep the kept peers (relays, bootstrap peers, addPeer peers) in IndexedDB under this name, so
   * a reload gets them back and dials them first; `false` for none. Default `{ name: 'default' }`.
   * Stored data that is not a meshwork peer store is discarded (`peerstore:loaded`, a console
   * warning), never fatal.
   */
  peerStore?: false | { name?: string }
}

/** An ICE server (RTCIceServer) for browser-to-browser connections across NATs. */
export interface IceServer { urls: string[], username?: string, credential?: string }

/** WebRTC settings of a page. */
export interface WebrtcOptions {
  /** Accept and dial direct browser-to-browser connections (`/webrtc`) through relays. Default true. */
  browserToBrowser?: boolean
  /** Close the relayed connection to a peer once the direct one is up. Default true. */
  closeRelayedConnection?: boolean
  /** STUN/TURN servers (at most 16). Default none: host candidates only, nothing outside is contacted. */
  iceServers?: IceServer[]
  /** "all" (default) or "relay" (TURN only). */
  iceTransportPolicy?: 'all' | 'relay'
  /** Time a WebRTC connection may take to come up, ms (1..120000). Default 10000. */
  handshakeTimeoutMs?: number
  /** RTCPeerConnections open at once in this page. Default 64. */
  maxLivePeerConnections?: number
  /** RTCPeerConnections this page may create in its lifetime (at most 500, Chrome's cap). Default 450. */
  maxTotalPeerConnections?: number
}

/** A peer's connection state (see the `peer:state` event). */
export type ConnectionState = 'connecting' | 'connected' | 'disconnecting' | 'disconnected'

/** A peer, as `peers()` (connected) and `listPeers()` (and kept peers not connected) list it. */
export interface PeerInfo {
  peerId: string
  state: ConnectionState
  /** Transport of the oldest open connection; null when not connected. */
  transport: string | null
  /** Remote address of the oldest open connection; null when not connected. */
  address: string | null
  /** Connected: every open connection's remote address. Not connected: where it is redialled. */
  addresses: string[]
  connections: number
  /** When the first open connection opened, ms since the epoch. */
  connectedSinceMs: number | null
  /** Stream bytes sent over the open connections (without transport framing). */
  bytesSent: number | null
  /** Stream bytes received over the open connections. */
  bytesReceived: number | null
  /** Connected: when bytes last moved. Not connected: when it was last connected. ms since the epoch. */
  lastSeenMs: number | null
  /** Why it is kept, if it is: a bootstrap peer, a relay reserved on, added with `addPeer`. */
  kept: { bootstrap: boolean, relay: boolean, manual: boolean } | null
  /** A kept peer's last dial error while it is not connected. */
  lastError: string | null
  rttMs: number | null
  agent: string | null
  /** gossipsub peer score (null with peer scoring off). */
  gossipScore: number | null
  /** Application reputation: up for valid messages, down for rejected or rate-limited ones. */
  reputation: number
  /** For a kept relay: whether the page holds a reservation on it, and how full it said it is (`status` null until asked, or if it cannot say). */
  relay: { reserved: boolean, status: { reservations: number, maxReservations: number, circuits: number, maxCircuits: number } | null } | null
}

/** detail of `message`. */
export interface MessageDetail { topic: string, from: string | null, via: string, id: string, data: Uint8Array }
/** detail of `peer:state`: per peer, in the order connecting, connected, disconnecting, disconnected (inbound starts at connected; a remote close skips disconnecting). */
export interface PeerStateDetail { peerId: string, state: ConnectionState, reason: string | null }
/** detail of `peerstore:loaded` (once, at start): peers kept from the stored peer store, entries
 * left out, and why the whole stored document was discarded, if it was. */
export interface PeerStoreLoadedDetail { restored: number, skipped: number, discarded: string | null }
/** detail of `peer:connect`. */
export interface PeerConnectDetail { peerId: string, transport: string, address: string }
/** detail of `peer:upgrade`: a direct browser-to-browser connection to a connected peer is up. */
export interface PeerUpgradeDetail { peerId: string, transport: 'webrtc', address: string }
/** detail of `peer:disconnect`. */
export interface PeerDisconnectDetail { peerId: string, transport: string, cause: string | null }
/** detail of `subscription-change`. */
export interface SubscriptionChangeDetail { peerId: string, topic: string, subscribed: boolean }
/** detail of `listen` and `listen:expired`. */
export interface ListenDetail { address: string }
/** detail of `relay:reservation`. */
export interface RelayReservationDetail { relayPeerId: string, renewal: boolean }
/** detail of `peer:discovery`: a peer found under a rendezvous namespace or announced on the peer-exchange topic (or its addresses changed). */
export interface PeerDiscoveryDetail { peerId: string, addresses: string[], source: 'rendezvous' | 'mdns' | 'gossip', namespace: string | null }
/** A peer registered under a rendezvous namespace, as `discover` returns it. */
export interface DiscoveredPeer { peerId: string, addresses: string[], namespace: string, expiresInSecs: number }
/** Options of `putRecord` and `getRecord`: DHT servers that must store it / matching copies to read (1 to 20, default 1). */
export interface QuorumOptions { quorum?: number }
/** Options of `register`. */
export interface RegisterOptions { ttlSecs?: number }
/** Options of `registerService`. */
export interface ServiceOptions {
  /** What kind of service it is, 1 to 64 bytes. */
  type: string
  /** String pairs the finder gets back: at most 16 entries, 2 KiB in all (else PAYLOAD_TOO_LARGE). */
  metadata?: Record<string, string>
  /** Lifetime without a refresh, seconds (30 to 86400). Default 600; refreshed at half of it. */
  ttlSecs?: number
}
/** A signed service record, checked: `registerService`, `findService` and `service:announced` give it. */
export interface ServiceRecord {
  serviceId: string
  type: string
  /** The provider's peer ID: the record is signed by this peer. */
  provider: string
  /** The provider's addresses (relay circuit addresses for a page), each ending in `/p2p/<provider>`. */
  addresses: string[]
  metadata: Record<string, string>
  /** When the provider signed it, ms since the Unix epoch (higher is fresher). */
  issuedAtMs: number
  /** When it expires unless refreshed, ms since the Unix epoch. */
  expiresAtMs: number
}
/** detail of `service:announced`: a provider announced a service (or a fresher record of it) over gossip. */
export interface ServiceAnnouncedDetail { record: ServiceRecord }
/** detail of `service:departed`: a provider announced over gossip that it no longer offers a service. */
export interface ServiceDepartedDetail { serviceId: string, provider: string }
/** What `perf` sends and asks back, in bytes (both default 0). */
export interface PerfOptions { uploadBytes?: number, downloadBytes?: number }

/**
 * What `perf` measured. `uploadMs` runs from the first byte sent to the server's first reply
 * byte (its view of the upload plus half a round trip); `downloadMs` from there to the end.
 */
export interface PerfReport { uploadBytes: number, downloadBytes: number, uploadMs: number, downloadMs: number }

/** detail of `error`. */
export interface ErrorDetail { code: ErrorCodeName, message: string }
/** detail of `peer:banned`. */
export interface PeerBannedDetail { peerId: string, secs: number }

/** A message as a validator sees it (a chunked payload reassembled). */
export interface ValidatorInput { topic: string, from: string | null, via: string, data: Uint8Array }
/** A topic validator's verdict. */
export type Verdict = 'accept' | 'reject' | 'ignore'

/** Options of `publish`. */
export interface PublishOptions { priority?: 'high' | 'normal' | 'low' }

/** Gossip counters of one topic. */
export interface TopicStats { published: number, delivered: number, rejected: number, ignored: number, rateLimited: number, shed: number, validationTimeouts: number }
/** What `stats()` returns. */
export interface GossipStats {
  topics: Record<string, TopicStats>
  queuedMessages: number
  queuedBytes: number
  publishRateBytesPerSec: number
  pendingValidations: number
  reassemblyBytes: number
  floodTrackedPeers: number
  bannedPeers: number
}

/** Event name → detail type. */
export interface MeshworkEvents {
  'message': MessageDetail
  'peer:connect': PeerConnectDetail
  'peer:state': PeerStateDetail
  'peerstore:loaded': PeerStoreLoadedDetail
  'peer:upgrade': PeerUpgradeDetail
  'peer:disconnect': PeerDisconnectDetail
  'peer:banned': PeerBannedDetail
  'subscription-change': SubscriptionChangeDetail
  'listen': ListenDetail
  'listen:expired': ListenDetail
  'relay:reservation': RelayReservationDetail
  'peer:discovery': PeerDiscoveryDetail
  'service:announced': ServiceAnnouncedDetail
  'service:departed': ServiceDepartedDetail
  'error': ErrorDetail
}

/** A meshwork node in this page. */
export declare class MeshworkNode extends EventTarget {
  readonly peerId: string
  /** Largest gossip message; larger payloads are chunked. */
  readonly maxMessageBytes: number
  /** Largest payload `publish` accepts. */
  readonly maxPayloadBytes: number
  readonly stopped: boolean
  /**
   * Connect to a multiaddr, or to a peer ID through this page's relay reservation. A
   * `/p2p-circuit/webrtc/p2p/<id>` address or a peer ID (with `webrtc.browserToBrowser`) ends in a
   * direct WebRTC connection (`peer:upgrade`), the relayed one closed. Resolves with the peer ID.
   */
  dial (multiaddrOrPeerId: string): Promise<string>
  subscribe (topic: string): Promise<boolean>
  unsubscribe (topic: string): Promise<boolean>
  /**
   * Resolves once handed to gossipsub (at the pace the links take); rejects with BACKPRESSURE
   * when the topic's queue is full or the publish was shed for higher-priority ones.
   */
  publish (topic: string, data: Uint8Array, options?: PublishOptions): Promise<string>
  /** Validate inbound messages on a topic before delivery and forwarding; `null` removes it. */
  setValidator (topic: string, validator: ((message: ValidatorInput) => Verdict | Promise<Verdict>) | null): Promise<void>
  /** Gossip counters per topic and queue state. */
  stats (): Promise<GossipStats>
  /** The connected peers. */
  peers (): Promise<PeerInfo[]>
  /** The connected peers, then the kept peers (bootstrap, relays, added) that are not connected. */
  listPeers (): Promise<PeerInfo[]>
  /**
   * Connect to a multiaddr and keep the peer connected: redialled with backoff and jitter when
   * lost, protected from pruning. With `expectedPeerId` (or a trailing `/p2p/<id>`) the remote
   * must prove that identity, else PEER_ID_MISMATCH. Rejects with INVALID_MULTIADDR,
   * INVALID_PEER_ID, DIAL_FAILED or LIMIT_REACHED; nothing is kept on failure.
   */
  addPeer (multiaddr: string, expectedPeerId?: string): Promise<string>
  /** Stop keeping a peer and close its connections; whether it was kept or connected. */
  removePeer (peerId: string): Promise<boolean>
  /** Addresses this page is reachable at: relay circuit addresses, and `/webrtc` ones once reserved. */
  listenAddresses (): Promise<string[]>
  /**
   * Register under a rendezvous namespace at every connected rendezvous point (a meshwork-relay
   * is one), refreshed until `unregister`. Waits up to `node.rendezvous.timeoutSecs` for a point
   * and a relay reservation. Resolves with the granted lifetime in seconds; rejects with
   * INVALID_NAMESPACE, INVALID_OPTIONS, LIMIT_REACHED or DISCOVERY_FAILED.
   */
  register (namespace: string, options?: RegisterOptions): Promise<number>
  /** Stop refreshing a namespace and unregister from it; whether it was registered. */
  unregister (namespace: string): Promise<boolean>
  /**
   * The peers registered under a namespace (each point asked only for what is new since the last
   * call; the answer is the whole current set). Dial one of a peer's `addresses` to connect.
   */
  discover (namespace: string): Promise<DiscoveredPeer[]>
  /**
   * Find a peer's addresses through the DHT (a page by its signed peer record: its relay circuit
   * addresses). Each ends in `/p2p/<peerId>`. Rejects with INVALID_PEER_ID or NOT_FOUND
   * (DISCOVERY_FAILED if no DHT server became known within 10 s of the call).
   */
  findPeer (peerId: string): Promise<string[]>
  /** Store a record at `quorum` (default 1) or more DHT servers; republished while the node runs (DISCOVERY_FAILED as `findPeer`, or when fewer than `quorum` stored it). */
  putRecord (key: string, value: Uint8Array, options?: QuorumOptions): Promise<void>
  /** The first value seen in `quorum` (default 1) matching copies; rejects with NOT_FOUND (DISCOVERY_FAILED as `findPeer`). */
  getRecord (key: string, options?: QuorumOptions): Promise<Uint8Array>
  /** Announce in the DHT that this page provides `key` (provider records, republished while it runs; DISCOVERY_FAILED as `findPeer`, or when no server took it). */
  provide (key: string): Promise<void>
  /** Stop announcing `key`; whether this page provided it. */
  stopProviding (key: string): Promise<boolean>
  /** Up to `limit` (1 to 20, default 20) providers of `key` other than this page, with their addresses; possibly none (DISCOVERY_FAILED as `findPeer`). */
  findProviders (key: string, options?: { limit?: number }): Promise<Array<{ peerId: string, addresses: string[] }>>
  /**
   * Register (or update) a service this page provides: a record signed by this node, with its
   * current addresses, into the DHT and out on gossip, refreshed until `unregisterService`.
   * Rejects with INVALID_OPTIONS, PAYLOAD_TOO_LARGE (metadata), LIMIT_REACHED
   * (`node.services.maxRegistered`) or DISCOVERY_FAILED (no DHT server stored it).
   */
  registerService (serviceId: string, options: ServiceOptions): Promise<ServiceRecord>
  /** Stop providing a service (a signed departure replaces the record); whether it was registered. */
  unregisterService (serviceId: string): Promise<boolean>
  /**
   * The freshest live, validly signed record of a service; rejects with INVALID_OPTIONS or NOT_FOUND
   * (DISCOVERY_FAILED if no DHT server became known within 10 s of the call).
   */
  findService (serviceId: string): Promise<ServiceRecord>
  /**
   * Measure stream throughput to a peer serving the libp2p perf protocol (`/perf/1.0.0`, e.g. a
   * relay started with `--perf`). Each count is at most 1 GiB. Rejects with INVALID_PEER_ID,
   * INVALID_OPTIONS or STREAM_FAILED.
   */
  perf (peerId: string, options?: PerfOptions): Promise<PerfReport>
  stop (): Promise<void>
  addEventListener<K extends keyof MeshworkEvents>(type: K, listener: (ev: CustomEvent<MeshworkEvents[K]>) => void, options?: boolean | AddEventListenerOptions): void
  addEventListener (type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void
  removeEventListener<K extends keyof MeshworkEvents>(type: K, listener: (ev: CustomEvent<MeshworkEvents[K]>) => void, options?: boolean | EventListenerOptions): void
  removeEventListener (type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void
}

/** Start a node; resolves once the bootstrap peers and relays are dialled. */
export declare function createNode (options?: NodeOptions): Promise<MeshworkNode>

/** The page's RTCPeerConnections: open now (`live`) and created so far (`created`), by every meshwork node in it. */
export declare function peerConnectionUsage (): Promise<{ live: number, created: number }>
