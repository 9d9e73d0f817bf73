/**
 * The one follow loop, in the two shapes Node users expect: follow(reader, handler, options) calls
 * the handler's onBook, onTop, onEvent, onEventsLost, onStale, onWriterDead, onWriterBack,
 * onNewWriter and onClosed; reader.updates(options) is the same loop as an async iterator
 * (`for await (const u of reader.updates({ signal }))`, `u` a discriminated Update). Both take the
 * one idle strategy (idle.ts) with the reader's wait, and the Follower (follower.ts) for the rest.
 * follow() allocates nothing per update; the iterator only the Promise its protocol demands.
 */
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { BookReader } from './book-reader.js';
import { type FollowOptions, Follower } from './follower.js';
import { IdleStrategy } from './idle.js';
import type { FollowHandler, Update } from './update.js';

/** How a follow loop ended. */
export type FollowEnd = 'closed' | 'aborted' | 'duration';

/** Updates handed out between two event-loop turns when they never stop coming (timers, signals, I/O still run). */
const UPDATES_PER_TURN = 1 << 12;
/** spin: idle steps between two looks at the clock and the writer's story (cheap looks are the point of spinning). */
const SPIN_IDLES_PER_CHECK = 16;
/** spin: polls one take() makes before an idle step. */
const SPIN_LOOKS_PER_TAKE = 64;

/** What an idle step tells the loop. */
const Step = {
  AGAIN: 0,
  TURN: 1,
  END: 2,
} as const;
type Step = (typeof Step)[keyof typeof Step];

/** The loop both shapes share: the next update now, or one idle step as the wait says. */
class FollowLoop {
  readonly follower: Follower;
  private readonly idle: IdleStrategy;
  private readonly endMs: number;
  private idles = 0;
  private work = 0;
  /** spin: polls per take() before it gives up to an idle step. */
  private readonly spinLooks: number;
  ended: FollowEnd | null = null;

  constructor(
    reader: BookReader,
    private readonly o: FollowOptions,
  ) {
    const f = new Follower(reader, o);
    this.follower = f;
    const ready = (): boolean => f.ready();
    // Asleep on the top lines' word when only tops are followed (woken by top changes alone),
    // else on the segment's, which the writer bumps after every message (books and events).
    const sleep = (ms: number): void => reader.sleepUntilWoken(ready, ms, f.tops && !f.followsEvents);
    // spin: the loop's own poll is the look (no second look inside the idle step).
    this.idle = new IdleStrategy(reader.wait, { ready, sleep }, o.turnEveryMs ?? 0, 0);
    this.spinLooks = reader.wait === 'spin' ? SPIN_LOOKS_PER_TAKE - 1 : 0;
    this.endMs = o.durationMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + o.durationMs;
  }

  /** The next update if one is there (synchronous), else null: then idle(). */
  take(): Update | null {
    if (this.ended !== null) return null;
    const f = this.follower;
    let u = f.next();
    // spin: look again at once a few times before an idle step (the tightest poll period).
    for (let i = this.spinLooks; u === null && i > 0; i--) u = f.next();
    if (u !== null) {
      this.idle.reset();
      if (u.kind === 'closed') this.ended = 'closed';
    }
    return u;
  }

  /** After an update: TURN once per UPDATES_PER_TURN, so a feed that never pauses still lets the event loop in. */
  afterWork(): Step {
    if (this.o.signal?.aborted) this.ended ??= 'aborted';
    if (this.ended !== null) return Step.END;
    return (++this.work & (UPDATES_PER_TURN - 1)) === 0 ? Step.TURN : Step.AGAIN;
  }

  /** One idle step: the deadline, the signal and the writer's story looked at, then the idle strategy. */
  idleStep(): Step {
    if (this.o.signal?.aborted) this.ended ??= 'aborted';
    if (this.ended !== null) return Step.END;
    const f = this.follower;
    if (this.idle.wait !== 'spin' || (++this.idles & (SPIN_IDLES_PER_CHECK - 1)) === 0) {
      const now = performance.now();
      if (now >= this.endMs) {
        this.ended = 'duration';
        return Step.END;
      }
      f.report(now);
      if (f.checkStory()) return Step.AGAIN;
    }
    const dormant = f.reader.isWriterDead;
    // A spinning step needs no deadline (no clock read between two polls: it would lengthen the
    // poll period, and with it how late an update is seen); the others sleep at most until it.
    const maxMs = this.idle.wait === 'spin' && !dormant ? Number.POSITIVE_INFINITY : this.endMs - performance.now();
    return this.idle.idle(maxMs, dormant) ? Step.TURN : Step.AGAIN;
  }

  close(): void {
    this.follower.close();
  }
}

/**
 * Follows `reader` until the writer closes the segment, `signal` aborts or `durationMs` passes,
 * calling `handler` for every update. A handler that throws ends the loop with its error.
 */
export async function follow(reader: BookReader, handler: FollowHandler, o: FollowOptions = {}): Promise<FollowEnd> {
  const loop = new FollowLoop(reader, o);
  try {
    for (;;) {
      const u = loop.take();
      if (u !== null) dispatch(handler, u);
      const step = u === null ? loop.idleStep() : loop.afterWork();
      if (step === Step.END) return loop.ended!;
      if (step === Step.TURN) {
        handler.onTurn?.();
        await yieldNow();
      }
    }
  } finally {
    loop.close();
  }
}

function dispatch(h: FollowHandler, u: Update): void {
  switch (u.kind) {
    case 'book':
      h.onBook?.(u.book, u.instrument);
      return;
    case 'top':
      h.onTop?.(u.top, u.instrument);
      return;
    case 'event':
      h.onEvent?.(u.event, u.instrument);
      return;
    case 'events-lost':
      h.onEventsLost?.(u.lost);
      return;
    case 'stale':
      h.onStale?.(u.instrument, u.error);
      return;
    case 'writer-dead':
      h.onWriterDead?.(u.error);
      return;
    case 'writer-back':
      h.onWriterBack?.(u.pid);
      return;
    case 'new-writer':
      h.onNewWriter?.(u.generation);
      return;
    case 'closed':
      h.onClosed?.();
  }
}

/**
 * The follow loop as an async iterator: ends (done) after the 'closed' update, when the signal
 * aborts or when the duration passes; `break` closes it. The update objects are reused.
 */
export function updates(reader: BookReader, o: FollowOptions = {}): AsyncIterableIterator<Update> {
  const loop = new FollowLoop(reader, o);
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  // One result object, reused: for await reads `value` before it asks for the next.
  const result: { done: false; value: Update } = { done: false, value: { kind: 'closed' } };
  let finished = false;
  const finish = (): IteratorReturnResult<undefined> => {
    if (!finished) {
      finished = true;
      loop.close();
    }
    return done;
  };
  const take = async (): Promise<IteratorResult<Update>> => {
    for (;;) {
      const u = loop.take();
      if (u !== null) {
        if (loop.afterWork() === Step.TURN) await yieldNow();
        result.value = u;
        return result;
      }
      const step = loop.idleStep();
      if (step === Step.END) return finish();
      if (step === Step.TURN) await yieldNow();
    }
  };
  return {
    async next(): Promise<IteratorResult<Update>> {
      if (finished) return done;
      try {
        return await take();
      } catch (e) {
        finish();
        throw e;
      }
    },
    async return(): Promise<IteratorResult<Update>> {
      return finish();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
