/**
 * The kill rounds' writer: `node hammer.js` starts as a standby (its modules loaded, its payload
 * arrays made), prints "standby", and waits for a line `go NAME` on stdin: it then opens NAME
 * (creating it, or taking over a dead writer's), prints "ready <generation> <outcome>", and
 * commits self-checking payloads (payload.ts) to slot 0 as fast as it can until it is killed.
 * Starting the next rounds' writers ahead keeps the wait for a process start (most of a round's
 * cost) out of the rounds; the open itself, the takeover under test, happens on `go`.
 *
 * A standby whose stdin ends (the soak died, or had no use for it) exits; a writer checks now and
 * then that its parent is still the soak, so none outlives a soak killed itself.
 */
import { SegmentWriter } from '../../native/segment/index.js';
import { TORTURE_LEVELS, fill } from './payload.js';
import { specOf } from '../../native/segment/directory.js';

const src = { bidCount: TORTURE_LEVELS, askCount: TORTURE_LEVELS, bids: new Float64Array(TORTURE_LEVELS * 3), asks: new Float64Array(TORTURE_LEVELS * 3) };
const parent = process.ppid;
/** Commits between two looks at the parent (a getppid call: nothing at this spacing). */
const PARENT_CHECK_MASK = 0xffff;

function hammer(name: string): never {
  const w = SegmentWriter.open({ name, levels: TORTURE_LEVELS, maxInstruments: 1 });
  w.addInstrument('TORT', 1, specOf(0));
  process.stdout.write(`ready ${w.generation} ${w.outcome}\n`);
  for (let k = 1; ; k++) {
    fill(src, k);
    w.publish(0, src, k, 3 * k);
    if ((k & PARENT_CHECK_MASK) === 0 && process.ppid !== parent) process.exit(3);
  }
}

let line = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  line += d;
  const nl = line.indexOf('\n');
  if (nl < 0) return;
  const m = /^go (\S+)$/.exec(line.slice(0, nl));
  if (m === null) {
    process.stderr.write(`hammer: expected "go NAME", got ${JSON.stringify(line.slice(0, nl))}\n`);
    process.exit(2);
  }
  hammer(m[1]!);
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write('standby\n');
