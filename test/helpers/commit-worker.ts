/**
 * A worker thread for the per-environment addon state test: checks that the handles bound
 * elsewhere (the main thread's) are not bound here, binds its own writers (numbered from 0: a
 * fresh table), commits books with values of its own through SlotWriter and reads them back
 * through the addon, leaves some writers bound on purpose (its environment's cleanup must free
 * them), and posts what it found.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { abi, SlotWriter } from '../../native/segment/index.js';
import { native } from '../../native/segment/binding.js';

export interface CommitWorkerInput {
  id: number;
  /** Handles bound by the main thread: none may be bound in this environment. */
  foreignHandles: number[];
  writers: number;
}
export interface CommitWorkerResult {
  id: number;
  /** What commitBook answered for each foreign handle (-1: not bound here). */
  foreign: number[];
  /** The handles raw commitBind returned here, in order. */
  handles: number[];
  /** Every read-back disagreement, as text (empty: all right). */
  errors: string[];
  /** addonStates() as seen from inside this worker. */
  states: number;
}

const { id, foreignHandles, writers } = workerData as CommitWorkerInput;
const LEVELS = 5;
const MAX = 4;
const layout = abi.computeLayout(MAX, LEVELS);
const foreign = foreignHandles.map((h) => native.commitBook(h, 0));

// Raw binds first: in a table of this environment's own, they are 0, 1, ...
const raw = Array.from({ length: writers }, () => {
  const map = new ArrayBuffer(layout.totalBytes);
  return native.commitBind(map, layout.slotsOffset, layout.slotStride, LEVELS, MAX, null, new ArrayBuffer(abi.commitStageBytes(LEVELS)));
});

const errors: string[] = [];
const kept: SlotWriter[] = [];
for (let k = 0; k < writers; k++) {
  const map = new ArrayBuffer(layout.totalBytes);
  const tops = k % 2 === 0 ? new ArrayBuffer(abi.TOPS_HEADER_BYTES + MAX * abi.TOP_STRIDE_BYTES) : null;
  const w = new SlotWriter(map, layout, tops);
  for (let slot = 0; slot < MAX; slot++) {
    const price = id * 1000 + k * 10 + slot + 1;
    const s = w.stage;
    s.bids.fill(0);
    s.asks.fill(0);
    s.bids.set([price, 7, 1]);
    s.asks.set([price + 1, 8, 2]);
    s.bidCount = 1;
    s.askCount = 1;
    w.commit(slot, s, id * 100 + slot, 42, slot % 2);
    const dst = new Uint32Array(abi.slotPayloadBytes(LEVELS) / 4);
    const retries = native.readSlot(map, layout.slotsOffset + slot * layout.slotStride, abi.slotPayloadBytes(LEVELS), dst, 1e9);
    const got = {
      seq: dst[abi.W.slotSeq],
      flags: dst[abi.W.slotFlags],
      msgIndex: dst[abi.W.slotMsgIndexLo],
      exchangeTs: dst[abi.W.slotExchangeTsLo],
      bidCount: dst[abi.W.slotBidCount],
      bidPrice: dst[abi.W.slotLevels],
      askPrice: dst[abi.asksOffset(LEVELS) >>> 2],
    };
    const want = { seq: 2, flags: slot % 2, msgIndex: id * 100 + slot, exchangeTs: 42, bidCount: 1, bidPrice: price, askPrice: price + 1 };
    if (retries < 0 || JSON.stringify(got) !== JSON.stringify(want)) errors.push(`worker ${id} writer ${k} slot ${slot}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  }
  if (w.topCommits !== (tops ? MAX : 0)) errors.push(`worker ${id} writer ${k}: ${w.topCommits} top commits`);
  if (k % 2 === 0) w.unbind();
  else kept.push(w); // left bound: the environment's cleanup frees it
}
native.commitUnbind(raw[0]!);

const result: CommitWorkerResult = { id, foreign, handles: raw, errors, states: native.addonStates() };
parentPort!.postMessage(result);
