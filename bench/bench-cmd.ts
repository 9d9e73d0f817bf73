/**
 * `mdfan bench <name> [--json FILE] [--runs K]`: prints a table; --json writes
 * { machine, baseline, results }. Each benchmark reports the median of K runs (default 5).
 */
import { writeFileSync } from 'node:fs';
import { parse, intOption, optString } from '../native/ts/args.js';
import { ErrorCode, MdfanError } from '../native/ts/errors.js';
import { machineInfo } from './machine.js';
import { seqlockBench } from './seqlock-read.js';
import { c2cBaseline } from './c2c.js';
import { feedBench } from './feed.js';
import { readersBench } from './readers.js';
import { stallBench } from './stall.js';

const USAGE = 'usage: mdfan bench <seqlock|c2c|feed|readers|stall> [--json FILE] [--runs K]';

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const { values } = parse(rest, { json: { type: 'string' }, runs: { type: 'string' } }, USAGE);
  if (name === undefined || name === '--help' || values.help) {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const runs = intOption(values.runs, '--runs', 1, 100, 5);
  const jsonFile = optString(values.json, '--json');
  const machine = machineInfo();
  console.log(`mdfan bench ${name}: ${machine.cpu_model}, ${machine.cores} cores, node ${machine.node_version}, kernel ${machine.kernel}; median of ${runs} runs`);
  let out: { baseline: object; results: object[] };
  switch (name) {
    case 'seqlock': {
      const rows = await seqlockBench(runs, console.log);
      const base = rows[0];
      console.table(rows.map((r) => ({ case: r.case, 'ns/read': r.ns_per_read.toFixed(1), 'x plain copy': (r.ns_per_read / base.ns_per_read).toFixed(2), 'retries/read': r.retries_per_read.toFixed(3) })));
      out = { baseline: { plain_copy_ns: base.ns_per_read }, results: rows.slice(1) };
      break;
    }
    case 'feed': {
      const rows = feedBench(runs, console.log);
      console.table(rows.map((r) => ({ stage: r.stage, 'M msg/s': (r.msgs_per_s / 1e6).toFixed(2), 'ns/msg': (1e9 / r.msgs_per_s).toFixed(0) })));
      out = { baseline: { decode_msgs_per_s: rows[0].msgs_per_s }, results: rows };
      break;
    }
    case 'readers': {
      const c = c2cBaseline(Math.min(runs, 3));
      const rows = await readersBench(runs, console.log);
      console.table(rows.map((r) => ({ wait: r.wait, 'p50 ns': r.latency_ns.p50, 'p90 ns': r.latency_ns.p90, 'p99 ns': r.latency_ns.p99, 'p99.9 ns': r.latency_ns.p999, 'x c2c p50': (r.latency_ns.p50 / c.p50).toFixed(1), 'reader CPU ms': r.reader_cpu_ms })));
      out = { baseline: { c2c_one_way_ns: { p50: c.p50, p99: c.p99 } }, results: rows.map((r) => ({ ...r, ratio_to_c2c_p50: r.latency_ns.p50 / c.p50 })) };
      break;
    }
    case 'stall': {
      const rows = await stallBench(runs, console.log);
      console.table(rows.map((r) => ({ reader: r.reader, 'M msg/s': (r.msgs_per_s / 1e6).toFixed(2), 'x no reader': (r.msgs_per_s / rows[0].msgs_per_s).toFixed(2) })));
      out = { baseline: { no_reader_msgs_per_s: rows[0].msgs_per_s }, results: rows };
      break;
    }
    case 'c2c': {
      const c = c2cBaseline(runs);
      console.table([{ cpus: c.cpus.join('->'), 'one-way p50 ns': c.p50.toFixed(1), 'p99 ns': c.p99.toFixed(1), 'p99.9 ns': c.p999.toFixed(1), pinned: c.pinned }]);
      out = { baseline: { c2c_one_way_ns: { p50: c.p50, p99: c.p99 } }, results: [c] };
      break;
    }
    default:
      throw new MdfanError(ErrorCode.OPTIONS, `unknown benchmark ${JSON.stringify(name)}\n${USAGE}`);
  }
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ machine, ...out }, null, 2));
  return 0;
}
