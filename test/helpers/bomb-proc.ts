/**
 * Runs one of the paths that read a whole input (as `mdfan gen-market`, `mdfan replay`'s message
 * count, `mdfan soak` and `mdfan bench` do) on FILE, then prints one JSON line: what came of it
 * (result, or the error's code and message) and this process's peak RSS, for a test to bound.
 * Usage: bomb-proc.js gen-market|count|read FILE [OUT]
 */
import { readFileSync } from 'node:fs';
import { run as genMarket } from '../../feed/cmd/gen-market-cmd.js';
import { readInput } from '../../feed/index.js';
import { countItchMessages } from '../../scenarios/replay/progress.js';
import { loadBenchFeed } from '../../bench/feed.js';

const [what, file, out] = process.argv.slice(2);

async function main(): Promise<unknown> {
  if (what === 'gen-market') return genMarket(['--from', file!, '--instruments', '3', '--messages', '1000', '--out', out!]);
  if (what === 'count') return countItchMessages(file!);
  if (what === 'read') return (await readInput(file!)).length;
  if (what === 'bench') return (await loadBenchFeed(file!)).bytes.length;
  throw new Error(`unknown path ${what}`);
}

let report: Record<string, unknown>;
try {
  report = { result: await main() };
} catch (e) {
  const err = e as { code?: string; message?: string };
  report = { code: err.code ?? null, message: err.message ?? String(e) };
}
// This process image's own peak (VmHWM): getrusage's maxRSS is carried over from the parent at
// fork and kept across exec, so it would report the test runner's size, not this reader's.
report.maxRssBytes = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
console.log(JSON.stringify(report));
