/**
 * A block reader in its own process, for the lost wake-up tests: `node wake-proc.js MODE NAME`.
 *   events  an SDK EventReader (from the newest event) prints "waiting", waits up to 60 s for an
 *           event, prints "woke true|false SEQ"
 *   top     a BookReader (its current tops taken as seen) prints "waiting", waits up to 60 s for a
 *           top change (nextTop), prints "woke RESULT BID" (RESULT a WaitResult name, BID slot 0's best bid)
 * Both wait with wait 'block': asleep on the futex, counted in the writer's reader registry.
 */
import { EventBatch, TopSnapshot } from '../../native/segment/index.js';
import { BookReader, EventReader, WaitResult } from '../../workers/index.js';

const WAIT_MS = 60_000;
const [mode, name] = process.argv.slice(2);
if (mode === 'events') {
  const reader = EventReader.open(name!, { from: 'newest', wait: 'block' });
  console.log('waiting');
  const woke = await reader.waitForEvents(WAIT_MS);
  const batch = new EventBatch(4);
  const n = reader.poll(batch);
  console.log(`woke ${woke} ${n > 0 ? batch.records[0]!.seq : 0}`);
  reader.close();
} else if (mode === 'top') {
  const reader = await BookReader.attach(name!, { wait: 'block' });
  const seen = new Int32Array(1);
  reader.changed(seen);
  reader.changedTops(seen);
  console.log('waiting');
  const res = await reader.nextTop(WAIT_MS);
  const top = new TopSnapshot();
  reader.readTop(0, top);
  const resName = Object.entries(WaitResult).find(([, v]) => v === res)?.[0];
  console.log(`woke ${resName} ${top.bidPrice}`);
  reader.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
