/**
 * A process on either side of an event ring, for the tests:
 *   write NAME CAPACITY   opens the segment with a ring, prints "ready", appends self-checking
 *                         records as fast as it can until killed (heartbeats as it goes)
 *   wait NAME WAIT        an SDK EventReader (wait spin|yield|block) prints "waiting", waits up to
 *                         30 s for an event, prints "woke true|false" and the event's sequence
 *   read NAME TOTAL       follows the ring from its first record until it has accounted for TOTAL
 *                         records (read or lost), checking each one and their order; prints {"read","lost","bad","first"} as JSON
 */
import { EventBatch, EventRingReader, SegmentWriter, newEventFields } from '../../native/segment/index.js';
import { checkEvent, fillEvent } from './ring-payload.js';

const [mode, name, arg] = process.argv.slice(2);
if (mode === 'write') {
  const w = SegmentWriter.open({ name: name!, maxInstruments: 1, levels: 1, ringEvents: Number(arg) });
  const e = newEventFields();
  console.log('ready');
  for (let r = 1; ; r++) {
    fillEvent(e, r);
    w.appendEvent(e);
    if ((r & 4095) === 0) w.heartbeat();
  }
} else if (mode === 'wait') {
  const { EventReader } = await import('../../workers/index.js');
  const reader = EventReader.open(name!, { from: 'newest', wait: arg as 'spin' | 'yield' | 'block' });
  console.log('waiting');
  const woke = await reader.waitForEvents(30_000);
  const batch = new EventBatch(4);
  const n = reader.poll(batch);
  console.log(`woke ${woke} ${n > 0 ? batch.records[0]!.seq : 0}`);
  reader.close();
} else if (mode === 'read') {
  const total = Number(arg);
  const reader = EventRingReader.open(name!, 'oldest');
  const batch = new EventBatch(256);
  let bad = 0;
  let first = '';
  console.log('attached');
  let expect = reader.position; // the ring sequence the next record must have (1, or the oldest whole one of a busy ring): consecutive, but for the losses reported
  while (reader.read + reader.lost < total) {
    const n = reader.poll(batch);
    expect += batch.lost;
    for (let i = 0; i < n; i++) {
      const rec = batch.records[i]!;
      const problem = checkEvent(rec, expect++);
      if (problem) {
        bad++;
        first ||= problem;
      }
    }
  }
  console.log(JSON.stringify({ read: reader.read, lost: reader.lost, bad, first }));
  reader.close();
}
