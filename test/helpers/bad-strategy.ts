/** A strategy that misbehaves by worker: 0 throws at its 5th book, 1 hangs at its 5th book, others behave. */
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import type { StrategyContext } from '../../workers/pool/strategy.js';

let books = 0;
export const strategy = {
  onBook(_s: BookSnapshot, ctx: StrategyContext): void {
    books++;
    if (books === 5 && ctx.workerIndex === 0) throw new Error('boom: strategy bug');
    if (books === 5 && ctx.workerIndex === 1) for (;;); // a hang
  },
  onClose: () => ({ books }),
};
