/** The bridge's and the mirror's defaults, defined once. */
export const BRIDGE_DEFAULTS = Object.freeze({
  prefix: 'md',
  /** Full books go out (and into the bucket) at most this often per instrument: conflated. */
  bookIntervalMs: 50,
  /** The client reconnects forever, this long apart. */
  reconnectWaitMs: 250,
  /** Records the mirror holds while it loads the bucket, before READY. */
  mirrorQueueLimit: 1 << 20,
  /** Bytes (records plus their subjects) the mirror holds while it loads the bucket: a flood before READY costs this much, then it is dropped and counted. */
  mirrorQueueBytes: 64 << 20,
  /** The mirror's event ring (trades and trading actions), records. */
  mirrorRingEvents: 1 << 16,
  /** How long reading the bucket may take (at start and after a reconnect): junk keys cannot hold the mirror back longer. */
  mirrorBucketTimeoutMs: 10_000,
  /** A record's bridge session (its start, s since the epoch) may be this far ahead of our wall clock (clock skew between hosts); further is forged. */
  mirrorSessionSkewS: 30,
});
