/**
 * The kill rounds' writer: `node hammer.js NAME` opens NAME (creating it, or taking over a dead
 * writer's), prints "ready <generation> <outcome>", then commits self-checking payloads
 * (payload.ts) to slot 0 as fast as it can until it is killed.
 */
import { SegmentWriter } from '../../native/segment/index.js';
import { TORTURE_LEVELS, fill } from './payload.js';
import { specOf } from '../../native/segment/directory.js';

const name = process.argv[2] ?? '';
const w = SegmentWriter.open({ name, levels: TORTURE_LEVELS, maxInstruments: 1 });
w.addInstrument('TORT', 1, specOf(0));
const src = { bidCount: TORTURE_LEVELS, askCount: TORTURE_LEVELS, bids: new Float64Array(TORTURE_LEVELS * 3), asks: new Float64Array(TORTURE_LEVELS * 3) };
process.stdout.write(`ready ${w.generation} ${w.outcome}\n`);
for (let k = 1; ; k++) {
  fill(src, k);
  w.publish(0, src, k, 3 * k);
}
