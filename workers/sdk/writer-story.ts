/**
 * A reader's view of its writer's story, the one place it is worked out for every reader type (the
 * BookReader and the EventReader): the writer closed, died (once per death), beats again, or a new
 * writer took the name over (a takeover in the same object, or a re-created object: re-opened
 * here). Looked at most every HEALTH_EVERY_MS: the lock query is a syscall.
 */
import * as abi from '../../native/segment/abi.js';
import { ErrorCode, type MdfanError, isMdfanError } from '../../native/segment/errors.js';
import { SegmentReader, type AttachOptions } from '../../native/segment/reader.js';
import { READER_DEFAULTS } from './defaults.js';
import { WaitResult } from './wait.js';

/** How often the story is looked at, at most (ms). */
const HEALTH_EVERY_MS = 5;

export interface StoryOptions extends AttachOptions {
  /** A writer whose heartbeat is older than this is dead (READER_DEFAULTS.heartbeatTimeoutMs when absent). */
  heartbeatTimeoutMs?: number;
}

export class WriterStory {
  /** The writer generation followed (a takeover moves it; the SegmentReader's stays its open's). */
  generation: number;
  /** True from a WRITER_DEAD until a new writer or a beat. */
  writerDead = false;
  /** The error that reported the last death (code MDFAN_ERR_WRITER_DEAD, pid, heartbeat). */
  lastDeath: MdfanError | null = null;
  private nextLookMs = 0;

  constructor(
    /** The segment followed: replaced (the old one closed) when a new writer re-created it. */
    public seg: SegmentReader,
    private readonly opts: StoryOptions,
  ) {
    this.generation = seg.currentGeneration;
  }

  /**
   * The story now: null when not looked at (looked at less than HEALTH_EVERY_MS ago), UPDATED
   * ("carry on"), CLOSED, WRITER_DEAD (once per death) or NEW_WRITER (then `seg` is the new
   * writer's). `force`: look whatever the time.
   */
  look(force = false): WaitResult | null {
    const now = performance.now();
    if (!force && now < this.nextLookMs) return null;
    this.nextLookMs = now + HEALTH_EVERY_MS;
    const seg = this.seg;
    const state = seg.state;
    // A takeover in progress: the generation may already have moved, but the directory and
    // slots are being rewritten. Wait for READY before looking at anything.
    if (state === abi.STATE_INITIALIZING) return WaitResult.UPDATED;
    if (seg.currentGeneration !== this.generation) return this.newWriter(seg);
    if (state === abi.STATE_CLOSED || state === abi.STATE_BROKEN) {
      const fresh = this.tryReopen();
      if (fresh) return this.newWriter(fresh);
      // Replaced by a new writer that is still making its object: not an end, wait for it.
      if (seg.replaced) return WaitResult.UPDATED;
      if (!this.writerDead || state === abi.STATE_CLOSED) return WaitResult.CLOSED;
    }
    try {
      seg.checkWriter(this.opts.heartbeatTimeoutMs ?? READER_DEFAULTS.heartbeatTimeoutMs);
      this.writerDead = false;
    } catch (e) {
      if (!isMdfanError(e, ErrorCode.WRITER_DEAD)) throw e;
      const fresh = this.tryReopen();
      if (fresh) return this.newWriter(fresh);
      if (!this.writerDead) {
        this.writerDead = true;
        this.lastDeath = e;
        return WaitResult.WRITER_DEAD;
      }
    }
    return WaitResult.UPDATED;
  }

  /**
   * Follows the writer there is now without reporting it (the caller learned of it elsewhere, e.g.
   * from a BookReader on the same segment): a later look reports only what happens after.
   */
  catchUp(): void {
    const fresh = this.tryReopen();
    if (fresh) {
      this.seg.close();
      this.seg = fresh;
    }
    this.generation = this.seg.currentGeneration;
    this.writerDead = false;
  }

  /** A different, READY object under the name (the writer re-created the segment)? */
  private tryReopen(): SegmentReader | null {
    try {
      const r = SegmentReader.openSync(this.seg.name, this.opts);
      if (r.generation > this.generation || r.layout.totalBytes !== this.seg.layout.totalBytes) return r;
      r.close();
    } catch (e) {
      // A writer of another ABI major re-created the name: that never resolves by waiting, and a
      // reader must not read it, so the caller gets the refusal (it names both versions).
      if (isMdfanError(e, ErrorCode.ABI_VERSION)) throw e;
      /* otherwise nothing new yet (absent, initialising) */
    }
    return null;
  }

  private newWriter(seg: SegmentReader): WaitResult {
    if (seg !== this.seg) {
      this.seg.close();
      this.seg = seg;
    } else seg.refreshTops(); // the new writer made new top lines
    this.generation = seg.currentGeneration;
    this.writerDead = false;
    return WaitResult.NEW_WRITER;
  }

  close(): void {
    this.seg.close();
  }
}
