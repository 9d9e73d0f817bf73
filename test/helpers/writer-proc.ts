/**
 * A child process for lifecycle tests: `node writer-proc.js MODE NAME [levels] [maxInstruments]`.
 *  serve         open a writer (with its control plane), publish one book, print "ready <gen> <outcome>", heartbeat until
 *                SIGTERM/SIGINT (which close the segment gracefully) or SIGKILL
 *  half-commit   like serve, then leave slot 0 mid-update (odd seq) and keep heartbeating
 *  try-open      try to open as writer; print one JSON line {ok, code, pid} and exit (holds 300 ms)
 *  try-open-hold like try-open, but a winner holds the segment until killed
 *  as-nobody     drop to uid/gid 65534, then try to attach as a reader; print {ok, code}
 *                (`as-nobody NAME any`: in any state, e.g. a finished feed's CLOSED segment)
 *  write-mapping attach as a reader and store into the read-only mapping (expect SIGSEGV)
 *  futex-wait    attach, wait on the futex word; print "waiting" first, then {code}
 *  ticker        publish books k = 1..50 to AAA (bid price 1000 + k), one every 5 ms, then close
 *  gated-ticker  like ticker, but with its control plane listening (readers announce themselves:
 *                counter reader_attaches), heartbeating, and publishing only once sent SIGUSR2
 *                (so a test can have its readers attached before the first book)
 *  market        a writer with an event ring and its control plane: GOOG (bid 100 @ 585.3300, ask
 *                300 @ 585.5000), BRK.B (ask 5 @ 412.50, no bids, halted), one GOOG trade of 200 @
 *                585.4000; prints "ready", heartbeats until killed; SIGUSR2 publishes GOOG's bid
 *                at 585.3500 (prints "moved")
 */
import { SegmentReader, SegmentWriter, isMdfanError } from '../../native/segment/index.js';
import { closeOnSignals } from '../../lib/cli/signals.js';
import * as abi from '../../native/segment/abi.js';
import { newEventFields } from '../../native/segment/events.js';
import { ITCH_SPEC, specOf } from '../../native/segment/directory.js';

const [mode, name, levelsArg, maxArg] = process.argv.slice(2);
const levels = Number(levelsArg ?? 10);
const maxInstruments = Number(maxArg ?? 2);
const out = (s: string): void => void process.stdout.write(s + '\n');

function book(k: number) {
  const bids = new Float64Array(levels * 3);
  const asks = new Float64Array(levels * 3);
  for (let l = 0; l < levels; l++) {
    bids.set([1000 - l, 10 * (l + 1), 1], l * 3);
    asks.set([1001 + l, 20 * (l + 1), 2], l * 3);
  }
  return { bidCount: levels, askCount: levels, bids, asks, k };
}

/** Publishes books k = 1..50 to slot 0 (bid price 1000 + k), one every 5 ms, then closes. */
function tick(w: SegmentWriter): void {
  let k = 0;
  const t = setInterval(() => {
    k++;
    const b = book(k);
    b.bids[0] = 1000 + k;
    w.publish(0, b, k, k);
    w.wakeIfSleepers();
    if (k === 50) {
      clearInterval(t);
      w.close({ unlink: false });
      out('closed');
    }
  }, 5);
}

switch (mode) {
  case 'serve':
  case 'half-commit': {
    const w = SegmentWriter.open({ name, levels, maxInstruments });
    closeOnSignals(w);
    await w.startControl(); // as mdfan feed: readers announce themselves and get the registry
    w.addInstrument('AAA', 1, ITCH_SPEC);
    w.publish(0, book(1), 1, 1000);
    if (mode === 'half-commit') w.slots.beginOnlyForTest(0);
    setInterval(() => w.heartbeat(), 5);
    out(`ready ${w.generation} ${w.outcome}`);
    break;
  }
  case 'market': {
    const w = SegmentWriter.open({ name, levels: 1, maxInstruments: 4, ringEvents: 1024 });
    closeOnSignals(w);
    await w.startControl();
    const goog = w.addInstrument('GOOG', 1, ITCH_SPEC);
    const brk = w.addInstrument('BRK.B', 2, specOf(2));
    const btc = w.addInstrument('BTCUSDT', 3, specOf(2, 8));
    w.publish(btc, { bidCount: 1, askCount: 1, bids: new Float64Array([6_183_763, 55_463_987_000, 0]), asks: new Float64Array([6_183_764, 1_546_980, 0]) }, 3, 3000);
    const googBook = { bidCount: 1, askCount: 1, bids: new Float64Array([5853300, 100, 1]), asks: new Float64Array([5855000, 300, 2]) };
    w.publish(goog, googBook, 1, 1000);
    w.publish(brk, { bidCount: 0, askCount: 1, bids: new Float64Array(3), asks: new Float64Array([41250, 5, 1]) }, 2, 2000);
    const e = newEventFields();
    Object.assign(e, { kind: abi.EVENT_KIND_STATUS, action: 'H'.charCodeAt(0), instrumentIndex: brk, msgIndex: 2 });
    w.appendEvent(e);
    Object.assign(e, { kind: abi.EVENT_KIND_TRADE, action: 'P'.charCodeAt(0), instrumentIndex: goog, msgIndex: 3, price: 585.4 * abi.EVENT_PRICE_SCALE, size: 200 });
    w.appendEvent(e);
    w.flushCounters();
    process.on('SIGUSR2', () => {
      googBook.bids[0] = 5853500;
      w.publish(goog, googBook, 4, 4000);
      out('moved');
    });
    setInterval(() => w.heartbeat(), 5);
    out('ready');
    break;
  }
  case 'try-open':
  case 'try-open-hold': {
    try {
      const w = SegmentWriter.open({ name, levels, maxInstruments });
      out(JSON.stringify({ ok: true, pid: process.pid }));
      if (mode === 'try-open-hold') setInterval(() => w.heartbeat(), 5); // until killed: the lock held for as long as the test needs
      else setTimeout(() => w.close({ unlink: false }), 300);
    } catch (e) {
      out(JSON.stringify({ ok: false, code: isMdfanError(e) ? e.code : String(e), pid: isMdfanError(e) ? e.details.pid : undefined }));
    }
    break;
  }
  case 'as-nobody': {
    process.setgid!(65534);
    process.setuid!(65534);
    try {
      SegmentReader.openSync(name, { anyState: levelsArg === 'any' }).close(); // 3rd arg 'any': accept CLOSED
      out(JSON.stringify({ ok: true }));
    } catch (e) {
      out(JSON.stringify({ ok: false, code: isMdfanError(e) ? e.code : String(e) }));
      out(JSON.stringify({ message: String((e as Error).message) }));
    }
    break;
  }
  case 'write-mapping': {
    const r = SegmentReader.openSync(name);
    out('attached');
    const slot = r.slotWord(0);
    r.map.u32[slot + abi.W.slotLevels] = 0xdeadbeef; // PROT_READ: the kernel stops this store
    out('wrote'); // never reached
    break;
  }
  case 'futex-wait': {
    const r = SegmentReader.openSync(name);
    const seen = r.notifySeq();
    out('waiting');
    const code = r.waitForNotify(seen, 10e9);
    out(JSON.stringify({ code, seq: r.notifySeq() }));
    r.close();
    break;
  }
  case 'ticker': {
    const w = SegmentWriter.open({ name, levels, maxInstruments });
    w.addInstrument('AAA', 1, ITCH_SPEC);
    out(`ready ${w.generation} ${w.outcome}`);
    tick(w);
    break;
  }
  case 'gated-ticker': {
    const w = SegmentWriter.open({ name, levels, maxInstruments });
    w.addInstrument('AAA', 1, ITCH_SPEC);
    await w.startControl();
    const beat = setInterval(() => w.heartbeat(), 5); // alive while it waits (and keeps the process up)
    process.once('SIGUSR2', () => {
      clearInterval(beat);
      tick(w);
    });
    out(`ready ${w.generation} ${w.outcome}`);
    break;
  }
  default:
    out(`unknown mode ${mode}`);
    process.exit(2);
}
