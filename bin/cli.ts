/**
 * The command table. Each command is a module exporting `USAGE` and `run(argv): Promise<number>` (the exit
 * code), loaded only when named so `mdfan stat` never loads the feed handler.
 */
import { readFileSync } from 'node:fs';
import { isMdfanError } from '../native/segment/errors.js';
import { BENCHMARK_NAMES } from '../bench/names.js';
import { stopOnClosedStdout } from '../lib/cli/signals.js';

/** A command module: its usage text (printed for --help, here and nowhere else) and its run. */
type CommandModule = { USAGE: string; EXAMPLE?: string; EXIT_CODES?: string; run(argv: string[]): Promise<number> };

/** The exit codes every command shares unless it says otherwise. */
const EXIT_CODES = '0 done; 1 a failure (one line on stderr: mdfan <command>: MDFAN_ERR_<CODE>: message); 2 bad usage (MDFAN_ERR_OPTIONS)';
const LOG_LEVEL = 'MDFAN_LOG_LEVEL (trace|debug|info|warn|error|fatal|silent; default info) sets the level of the JSON log lines on stderr';

/**
 * A command's --help, the same shape for every command: its usage (lower case \`usage:\`), then
 * \`example:\`, \`exit codes:\` and the log level setting, each written here once.
 */
export function help(mod: CommandModule): string {
  return [mod.USAGE, ...(mod.EXAMPLE ? [`example: ${mod.EXAMPLE}`] : []), `exit codes: ${mod.EXIT_CODES ?? EXIT_CODES}`, LOG_LEVEL].join('\n');
}
type Command = { summary: string; load: () => Promise<CommandModule> };

const commands: Record<string, Command> = {
  stat: { summary: 'show a segment: header, layout, state, writer, counters, instruments', load: () => import('../workers/cmd/stat-cmd.js') },
  feed: { summary: 'the feed handler, the single writer: an ITCH file, a LOBSTER pair or a MoldUDP64 stream into a segment', load: () => import('../feed/cmd/feed-cmd.js') },
  'gen-market': { summary: 'a synthetic multi-instrument ITCH 5.0 file from relabelled copies of real days', load: () => import('../feed/cmd/gen-market-cmd.js') },
  send: { summary: 'replay an ITCH file as MoldUDP64 packets to HOST:PORT', load: () => import('../feed/cmd/send-cmd.js') },
  capture: { summary: 'record a Binance market (WebSocket frames and REST snapshots) into a capture file', load: () => import('../feed/cmd/capture-cmd.js') },
  'venue-replay': { summary: 'serve a capture as Binance does (WebSocket streams, REST snapshots), with faults, for tests and strategies', load: () => import('../feed/cmd/venue-replay-cmd.js') },
  read: { summary: 'a standalone reader process: read books until the writer closes', load: () => import('../workers/cmd/read-cmd.js') },
  strategies: { summary: 'run a piscina pool of strategy workers over a segment', load: () => import('../workers/cmd/strategies-cmd.js') },
  bench: { summary: `benchmarks (docs/BENCHMARKS.md): ${[...BENCHMARK_NAMES, 'all'].join(', ')}`, load: () => import('../bench/bench-cmd.js') },
  replay: { summary: 'run a replay scenario (scenarios/*.json): feed, readers, pool, faults; report', load: () => import('../scenarios/replay/replay-cmd.js') },
  soak: { summary: 'hours of torture, kill -9 rounds and fuzzing, with the reliability figures', load: () => import('../scenarios/soak/soak-cmd.js') },
  exporter: { summary: 'Prometheus metrics of segments over HTTP, read from their headers', load: () => import('../workers/cmd/exporter-cmd.js') },
  bridge: { summary: 'publish a segment to NATS: tops, trades, actions, conflated books and a key-value bucket', load: () => import('../workers/cmd/bridge-cmd.js') },
  mirror: { summary: 'the writer of a local segment fed by a bridge over NATS (another host)', load: () => import('../feed/cmd/mirror-cmd.js') },
  top: { summary: 'a live view of a segment: best bid and ask, spread, updates/s, trades/s, last trade, readers', load: () => import('../workers/cmd/top-cmd.js') },
  ls: { summary: 'every mdfan segment on this host: state, writer, heartbeat, instruments, readers, size', load: () => import('../workers/cmd/ls-cmd.js') },
  rm: { summary: "remove a dead writer's segment and the objects beside it", load: () => import('../workers/cmd/rm-cmd.js') },
  gc: { summary: 'remove every segment whose writer is gone', load: () => import('../workers/cmd/gc-cmd.js') },
  demo: { summary: 'a synthetic writer and a reader over a segment, with latency', load: () => import('../scenarios/demo/demo-cmd.js') },
};

/** The package's version, from its package.json (one source). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function usage(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return `usage: mdfan <command> [options] | mdfan --version\n\ncommands:\n${rows.join('\n')}\n\nmdfan <command> --help for a command's options; MDFAN_LOG_LEVEL sets the log level (default info)`;
}

export async function main(argv: string[]): Promise<void> {
  stopOnClosedStdout();
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log(`mdfan ${version()}`);
    process.exitCode = 0;
    return;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    process.exitCode = name === undefined ? 2 : 0;
    return;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`mdfan: MDFAN_ERR_OPTIONS: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  try {
    const mod = await cmd.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(help(mod));
      process.exitCode = 0;
      return;
    }
    process.exitCode = await mod.run(rest);
  } catch (e) {
    process.exitCode = reportError(name, e);
  }
}

/** Prints an error with its stable code; returns the exit code (2 usage, 1 otherwise). */
export function reportError(command: string, e: unknown): number {
  if (isMdfanError(e)) {
    console.error(`mdfan ${command}: ${e.message}`);
    return e.code === 'MDFAN_ERR_OPTIONS' ? 2 : 1;
  }
  const err = e as { code?: string; message?: string };
  if (typeof err?.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
    console.error(`mdfan ${command}: MDFAN_ERR_OPTIONS: ${err.message}`);
    return 2;
  }
  console.error(`mdfan ${command}: internal error:`, e);
  return 1;
}
