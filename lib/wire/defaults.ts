/** The bridge's and the mirror's defaults, defined once. */
export const BRIDGE_DEFAULTS = Object.freeze({
  prefix: 'md',
  /** Full books go out (and into the bucket) at most this often per instrument: conflated. */
  bookIntervalMs: 50,
  /** The client reconnects forever, this long apart. */
  reconnectWaitMs: 250,
  /** Records the mirror holds while it loads the bucket before its segment exists. */
  mirrorQueueLimit: 1 << 20,
  /** The mirror's event ring (trades and trading actions), records. */
  mirrorRingEvents: 1 << 16,
  /** How long the mirror waits for the bucket's first book (the bridge may start later). */
  mirrorLayoutTimeoutMs: 30_000,
});
