/**
 * The JavaScript strategy of `mdfan bench reaction`: a process on the public SDK (BookReader),
 * spinning on the top of book of the segment's first instrument; on each new top it writes an
 * order (the msg_index and best bid it saw) into the benchmark's reply line. No clock read on that
 * path: the benchmark's C thread stamps the commit and the order's arrival.
 *   node reaction-strategy-proc.js SEGMENT REPLY LOOP [FAULT]
 * LOOP: `poll` (pollTops(), the SDK's spinning hot loop, then readTop() on a change) or `copy`
 * (readTop() on every look, the seq compared: the whole line copied each time). Prints "ready" once
 * attached, exits 0 when the segment is CLOSED or its writer gone. FAULT (tests only): as the C
 * strategy's (bench/peers/c_reaction_strategy.c): `wrong-index`, `silent`, `exit-after=N`.
 */
import { BookReader, PollStatus, TopSnapshot } from '../workers/index.js';
import * as abi from '../native/segment/abi.js';
import { RW, openReply } from './reaction-reply.js';

const [name, replyName, loop = 'poll', fault = 'none'] = process.argv.slice(2);
if (loop !== 'poll' && loop !== 'copy') throw new Error(`LOOP must be poll or copy, got ${loop}`);
const exitAfter = fault.startsWith('exit-after=') ? Number(fault.slice(11)) : -1;
const wrongIndex = fault === 'wrong-index' ? 1 : 0;
const silent = fault === 'silent';

const reader = await BookReader.attach(name!, { wait: 'spin', timeoutMs: 10_000 });
const slot = reader.find('BENCH');
if (slot < 0) throw new Error(`segment ${name} has no instrument BENCH`);
const reply = openReply(replyName!).u32;
const top = new TopSnapshot();
const changed = new Int32Array(reader.seg.layout.maxInstruments);
reader.readTop(slot, top); // only commits after "ready" are books to react to
let last = top.seq;
const parent = process.ppid;
let orders = 0;
/** The order's sequence: this process alone stores it (so the load pairs with nothing). */
let seq = Atomics.load(reply, RW.seq);
console.log('ready');

/** The order for the line in `top`: its fields with plain stores, then its sequence. */
function order(): void {
  const msgIndex = top.msgIndex + wrongIndex;
  const bid = top.bidPrice;
  reply[RW.msgIndexLo] = msgIndex >>> 0;
  reply[RW.msgIndexHi] = (msgIndex / 4294967296) >>> 0;
  reply[RW.bidPriceLo] = bid >>> 0; // int64 two's complement halves; exact for |bid| < 2^53
  reply[RW.bidPriceHi] = Math.floor(bid / 4294967296) >>> 0;
  // seq_cst store, after the plain stores above (V8 does not move plain stores past an Atomics
  // store; x86-64 keeps stores in order): pairs with the benchmark's acquire load of seq
  // (native/bench/reaction.cc RR1), so the fields it then loads are this order's.
  seq = (seq + 1) >>> 0;
  Atomics.store(reply, RW.seq, seq);
  if (++orders === exitAfter) process.exit(3);
}

/** A new top in `top` (its seq moved): an order, unless a test asked for silence. */
function react(): void {
  if (top.seq === last) return;
  last = top.seq;
  if (!silent) order();
}

if (loop === 'poll') {
  for (;;) {
    const n = reader.pollTops(changed);
    if (n > 0) {
      reader.readTop(slot, top);
      react();
    } else if (n === PollStatus.CLOSED || n === PollStatus.WRITER_DEAD) break;
  }
} else {
  const hdr = reader.seg.map.u32;
  for (let spins = 1; ; spins++) {
    reader.readTop(slot, top);
    react();
    // The end of the run (CLOSED, or the benchmark gone), looked at rarely: it comes once.
    if ((spins & 0xffff) === 0 && (Atomics.load(hdr, abi.W.hdrState) === abi.STATE_CLOSED || process.ppid !== parent)) break;
  }
}
reader.close();
