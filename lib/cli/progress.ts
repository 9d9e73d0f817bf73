/**
 * Progress of a long job (a file replay, gen-market, a capture, a soak) for a person watching: one
 * cli-progress bar on stderr when stderr is a terminal, and nothing at all otherwise (a pipe, a
 * log file, a test, a supervisor): there the job's log lines and its summary say what it did, and
 * a bar's redraws would only be noise. The same helper for every command, so they look alike.
 */
import cliProgress from 'cli-progress';

/** The bar's width in cells: the line fits an 80-column terminal (cli-progress cuts what does not). */
const BAR_CELLS = 20;

/** Fields shown after the bar: `{name}` in `fields`, given to start() and update(). */
export type ProgressFields = Record<string, string | number>;

export interface ProgressOptions {
  /** What runs, first on the line: `feed`, `gen-market`, `soak`. */
  label: string;
  /** The end value; null: no end known (no bar, only the count and fields). */
  total: number | null;
  /** The value's unit, after `value/total`: `msgs`, `s`. */
  unit: string;
  /** The rest of the line, with `{field}` placeholders, e.g. `{lines} lines`. */
  fields?: string;
  initial?: ProgressFields;
}

export class Progress {
  private readonly bar: cliProgress.SingleBar;

  private constructor(o: ProgressOptions) {
    const head = o.total === null ? `${o.label} {value} ${o.unit}` : `${o.label} {bar} {percentage}% | {value}/{total} ${o.unit}`;
    this.bar = new cliProgress.SingleBar({ format: o.fields ? `${head} | ${o.fields}` : head, stream: process.stderr, hideCursor: true, barsize: BAR_CELLS }, cliProgress.Presets.shades_classic);
    this.bar.start(o.total ?? 0, 0, o.initial ?? {});
  }

  /** A bar on stderr if it is a terminal; null (quiet) otherwise. */
  static start(o: ProgressOptions): Progress | null {
    return process.stderr.isTTY === true ? new Progress(o) : null;
  }

  update(value: number, fields?: ProgressFields): void {
    this.bar.update(value, fields);
  }

  /** Prints `line` on stdout above the bar (the bar is drawn again at its next update). */
  above(line: string): void {
    process.stderr.write('\r\x1b[2K');
    process.stdout.write(`${line}\n`);
  }

  /** Draws the last state and leaves the line on the terminal. */
  stop(): void {
    this.bar.stop();
  }
}
