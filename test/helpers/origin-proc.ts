/**
 * An origin writer a test drives line by line, for the bridge and mirror tests:
 * `node origin-proc.js NAME`. It opens NAME (a takeover of a dead writer's segment: generation + 1)
 * with two levels, an event ring and its control plane, lists AAA and BBB (ITCH's decimals), prints
 * "ready GENERATION", beats every 5 ms, and then for each stdin line:
 *   book SYM K    publishes SYM's book with best bid 1000 + K (and an ask above it)
 *   trade SYM K   appends a trade of SYM at 1000 + K
 * each as the next input message (from 1 per writer), printing "ok MSGINDEX".
 */
import { createInterface } from 'node:readline';
import { SegmentWriter } from '../../native/segment/index.js';
import * as abi from '../../native/segment/abi.js';
import { newEventFields } from '../../native/segment/events.js';
import { ITCH_SPEC } from '../../native/segment/directory.js';
import { closeOnSignals } from '../../lib/cli/signals.js';

const name = process.argv[2]!;
const LEVELS = 2;
const w = SegmentWriter.open({ name, levels: LEVELS, maxInstruments: 4, ringEvents: 256 });
closeOnSignals(w);
await w.startControl();
const slots = new Map([
  ['AAA', w.addInstrument('AAA', 1, ITCH_SPEC)],
  ['BBB', w.addInstrument('BBB', 2, ITCH_SPEC)],
]);
const bids = new Float64Array(LEVELS * 3);
const asks = new Float64Array(LEVELS * 3);
const e = newEventFields();
let msgIndex = 0;
setInterval(() => w.heartbeat(), 5);
process.stdout.write(`ready ${w.generation}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const [what, sym, kText] = line.trim().split(' ');
  const slot = slots.get(sym ?? '');
  const k = Number(kText);
  if (slot === undefined || !Number.isInteger(k)) throw new Error(`origin-proc: bad line ${JSON.stringify(line)}`);
  msgIndex++;
  if (what === 'book') {
    bids.set([1000 + k, 10, 1, 999 + k, 20, 2]);
    asks.set([1100 + k, 30, 3, 1101 + k, 40, 4]);
    w.publish(slot, { bidCount: LEVELS, askCount: LEVELS, bids, asks }, msgIndex, msgIndex * 1000);
  } else if (what === 'trade') {
    Object.assign(e, { kind: abi.EVENT_KIND_TRADE, action: 'E'.charCodeAt(0), side: 'B'.charCodeAt(0), instrumentIndex: slot, msgIndex, exchangeTs: msgIndex * 1000, price: (1000 + k) * 1e5, size: 7, orderRef: k });
    w.appendEvent(e);
  } else throw new Error(`origin-proc: bad line ${JSON.stringify(line)}`);
  w.wakeIfSleepers();
  process.stdout.write(`ok ${msgIndex}\n`);
}
