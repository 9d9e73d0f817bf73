/**
 * Progress on stderr while a replay runs, from the segment's own counters (read like `mdfan
 * stat`, never disturbing the writer): a cli-progress bar on a terminal, otherwise one status
 * line every few seconds. Notes (a stall, a fault) are printed as they happen.
 */
import cliProgress from 'cli-progress';
import { itchMessages, probeInputFile } from '../../feed/index.js';
import type { RunContext } from './context.js';
import { tryStat } from './segment.js';

/**
 * How many messages an ITCH file holds (for the bar's total), or null if it cannot tell. Streamed
 * as the feed reads it: memory stays bounded whatever the file (a gzip bomb costs time, not memory).
 */
export async function countItchMessages(file: string): Promise<number | null> {
  try {
    let n = 0;
    for await (const m of itchMessages(probeInputFile(file))) n = m.msgIndex + 1;
    return n;
  } catch {
    return null;
  }
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastLine = 0;
  private msgs = 0;

  constructor(
    private readonly ctx: RunContext,
    private readonly label: string,
    private readonly total: number | null,
    private readonly quiet: boolean,
    private readonly everyMs = 5000,
  ) {}

  start(): void {
    if (this.quiet) return;
    this.ctx.onNote = (m) => this.note(m);
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { format: `${this.label} {bar} {percentage}% | {value}/{total} msgs | {secs} s | gen {gen} | readers {live}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.total ?? 0, 0, { secs: '0.0', gen: '-', live: '-' });
    } else {
      process.stderr.write(`${this.label}: started (status every ${this.everyMs / 1000} s)\n`);
    }
    this.lastLine = Date.now();
    this.timer = setInterval(() => this.tick(), 250);
    this.timer.unref();
  }

  private tick(): void {
    const s = tryStat(this.ctx.segment);
    if (s) this.msgs = s.messages;
    const live = this.ctx.readers.filter((r) => !r.child.exit).length;
    const secs = this.ctx.elapsedS().toFixed(1);
    const gen = s ? String(s.generation) : '-';
    if (this.bar) {
      if (this.total === null) this.bar.setTotal(Math.max(this.msgs, 1));
      this.bar.update(this.msgs, { secs, gen, live: `${live}/${this.ctx.readers.length}` });
    } else if (Date.now() - this.lastLine >= this.everyMs) {
      this.lastLine = Date.now();
      const pct = this.total ? ` (${Math.floor((100 * this.msgs) / this.total)}%)` : '';
      process.stderr.write(`${this.label}: ${secs} s, ${this.msgs}${this.total ? `/${this.total}` : ''} msgs${pct}, state ${s?.state ?? '-'}, generation ${gen}, readers running ${live}/${this.ctx.readers.length}\n`);
    }
  }

  note(msg: string): void {
    if (this.quiet) return;
    const line = `${this.label}: ${this.ctx.elapsedS().toFixed(2)} s: ${msg}`;
    if (this.bar) {
      // Print above the bar: clear the line, write, let the bar redraw.
      process.stderr.write(`\r\x1b[2K${line}\n`);
    } else process.stderr.write(line + '\n');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.bar) {
      this.tick();
      this.bar.stop();
      this.bar = null;
    }
    this.ctx.onNote = null;
  }
}
