/**
 * The segment layer's defaults, each defined once. The times every party must agree on (stale,
 * heartbeat, attach) come from the ABI header, so a C reader and the SDK use the same ones.
 */
import * as abi from './abi.js';

export const SEGMENT_DEFAULTS = Object.freeze({
  /** Price levels per side in each slot. */
  levels: 10,
  /** Directory entries and slots: a full Nasdaq day announces ~8,000-12,000 symbols. */
  maxInstruments: 16384,
  /** Owner read-write only; `--mode`/`--group` open it to a group. */
  mode: 0o600,
  /** How long a reader waits for a segment to exist and become READY. */
  attachTimeoutMs: abi.ATTACH_TIMEOUT_MS,
  /** Poll interval of that wait. */
  attachPollMs: 10,
  /** A heartbeat older than this (with the lock free or the pid gone) is a dead writer. */
  heartbeatTimeoutMs: abi.HEARTBEAT_TIMEOUT_MS,
  /** One odd seq lasting longer than this is MDFAN_ERR_STALE. */
  staleAfterMs: abi.STALE_AFTER_MS,
  /** How long a directory read may see the directory change under it (a takeover) before giving up. */
  directoryWaitMs: 1000,
  /** How long `listReaders` waits for the control plane's answer. */
  controlAnswerMs: 300,
  /**
   * The control plane's connections at most (a flood of fake attaches cannot exhaust the
   * writer's descriptors): past it, the oldest connection that never announced a reader makes
   * room, else the new one is closed.
   */
  controlMaxConnections: 512,
  /**
   * The control plane's connections at most from one uid (the kernel's SO_PEERCRED, not a claim):
   * a flood from one user cannot lock out the readers of another. A reader holds one connection
   * (a pool, one per worker) and asks for the registry on a short-lived one: far fewer than this.
   */
  controlMaxPerUid: 128,
  /**
   * Bytes of answers a peer has left unread (buffered in the writer, past what the kernel's
   * socket buffer holds) before the writer stops answering it and hangs up: a peer that asks and
   * never reads cannot grow the writer.
   */
  controlMaxUnreadBytes: 8192,
  /** Bytes of one unfinished line either side buffers from the control socket before it hangs up. */
  controlMaxLineBytes: 4096,
});
