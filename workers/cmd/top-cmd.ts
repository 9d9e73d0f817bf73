/**
 * `mdfan top --segment NAME [--interval-ms MS] [--once]`: a live view of a segment for people.
 * In a terminal it takes the alternate screen, redraws in place every interval (and on resize),
 * and quits on q or Ctrl-C, giving the terminal back as it was, also on an error. Without a
 * terminal (a pipe, a log) it prints a plain frame every interval; --once prints one and exits.
 */
import { intOption, parse, required } from '../../lib/cli/args.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { statSegment } from '../../native/segment/stat.js';
import { type TopFrame, TopSampler } from './top-sampler.js';
import { renderTop } from './top-view.js';

export const TOP_DEFAULTS = Object.freeze({
  intervalMs: 500,
  /** The size assumed when the output is not a terminal. */
  columns: 120,
  rows: 40,
});

export const USAGE = `usage: mdfan top --segment NAME [--interval-ms MS (default ${TOP_DEFAULTS.intervalMs})] [--once]
  A live view: the segment's state, writer, messages/s and readers; per instrument the best bid
  and ask, spread, updates/s, trades/s, last trade and trading state, most active first. Quits on
  q or Ctrl-C. It waits for a segment that is not there yet and follows a new writer.
  Without a terminal it prints a frame every interval; --once prints one frame and exits, or exits 1
  with the code (MDFAN_ERR_NO_SEGMENT, ...) when the segment is not there or cannot be read.`;
export const EXIT_CODES = '0 quit (q, Ctrl-C, SIGTERM) or --once printed its frame; 1 a failure, or --once on a missing or unreadable segment (its code on stderr); 2 bad usage';
export const EXAMPLE = 'mdfan top --segment books';

const ENTER = '\x1b[?1049h\x1b[?25l'; // alternate screen, cursor hidden
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
const CTRL_C = '\x03';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { segment: { type: 'string' }, 'interval-ms': { type: 'string' }, once: { type: 'boolean' } }, USAGE);
  const name = required(values.segment, '--segment', USAGE);
  const intervalMs = intOption(values['interval-ms'], '--interval-ms', 50, 3_600_000, TOP_DEFAULTS.intervalMs);
  const sampler = new TopSampler(name);
  const out = process.stdout;
  const tty = out.isTTY === true && !values.once;
  const size = (): [number, number] => (tty ? [out.columns, out.rows] : [TOP_DEFAULTS.columns, TOP_DEFAULTS.rows]);

  if (values.once) {
    // One frame for a script: a segment that is not there (or not readable) is its failure, with
    // its code, not a frame saying it waits.
    statSegment(name);
    // A first sample primes the rates; the second, an interval later, has them.
    await sampler.sample();
    await new Promise((r) => setTimeout(r, intervalMs));
    out.write(`${renderTop(await sampler.sample(), ...size(), intervalMs).join('\n')}\n`);
    sampler.close();
    return 0;
  }

  let stop: () => void = () => {};
  const stopped = new Promise<void>((r) => {
    stop = r;
  });
  const offSignals = onStopSignals(() => stop());
  const stdin = process.stdin;
  const onKey = (d: Buffer): void => {
    const k = d.toString('latin1');
    if (k === 'q' || k === 'Q' || k.includes(CTRL_C)) stop();
  };
  const restore = (): void => {
    if (tty) out.write(LEAVE);
  };
  if (tty) {
    out.write(ENTER);
    process.on('exit', restore); // the terminal comes back even if something throws
    if (stdin.isTTY) stdin.setRawMode(true); // raw: q without Enter; Ctrl-C arrives as a key
    stdin.on('data', onKey);
    stdin.resume();
  }
  let last: TopFrame | null = null;
  const draw = (frame: TopFrame): void => {
    last = frame;
    const lines = renderTop(frame, ...size(), intervalMs);
    out.write(tty ? `${HOME}${lines.map((l) => l + CLEAR_LINE_END).join('\r\n')}${CLEAR_BELOW}` : `${lines.join('\n')}\n\n`);
  };
  const onResize = (): void => {
    if (last) draw(last);
  };
  out.on('resize', onResize);
  try {
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    while (!done) {
      draw(await sampler.sample());
      await Promise.race([stopped, new Promise((r) => setTimeout(r, intervalMs))]);
    }
  } finally {
    offSignals();
    out.off('resize', onResize);
    sampler.close();
    if (tty) {
      stdin.off('data', onKey);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      restore();
      process.off('exit', restore);
    }
  }
  return 0;
}
