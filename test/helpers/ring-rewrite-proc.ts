/**
 * A ring writer that rewrites a slot on cue, for the ring's race tests:
 * `node ring-rewrite-proc.js NAME CAPACITY FIRST` opens the segment with a ring of CAPACITY records,
 * appends self-checking records 1..FIRST, prints "ready"; on SIGUSR2 appends FIRST+1..CAPACITY+1
 * (the last rewrites record 1's slot: with MDFAN_TEST_PAUSE_RING_REWRITE it stops there, its body
 * stored and its sequence not yet) and prints "appended CAPACITY+1". Heartbeats until killed.
 */
import { SegmentWriter, newEventFields } from '../../native/segment/index.js';
import { fillEvent } from './ring-payload.js';

const [name, capArg, firstArg] = process.argv.slice(2);
const capacity = Number(capArg);
const first = Number(firstArg);
const w = SegmentWriter.open({ name: name!, maxInstruments: 1, levels: 1, ringEvents: capacity });
const e = newEventFields();
const append = (from: number, to: number): void => {
  for (let r = from; r <= to; r++) {
    fillEvent(e, r);
    w.appendEvent(e);
  }
};
append(1, first);
setInterval(() => w.heartbeat(), 100);
process.on('SIGUSR2', () => {
  append(first + 1, capacity + 1);
  console.log(`appended ${capacity + 1}`);
});
console.log('ready');
