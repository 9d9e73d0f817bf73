/**
 * `mdfan exporter --segment NAME [--segment NAME2 ...] --listen HOST:PORT`: Prometheus metrics of
 * segments, served over HTTP at /metrics (prom-client). Each scrape reads the segments' headers
 * like `mdfan stat` does (a read-only mapping, a lock query): the writer's hot path is never
 * touched. A segment that is not there is `mdfan_segment_up 0`, not an error.
 */
import { createServer } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { intOption, parse, parseHostPort } from '../../lib/cli/args.js';
import { ErrorCode, MdfanError, isMdfanError } from '../../native/segment/errors.js';
import { type StatReport, statWithReaders } from '../../native/segment/stat.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { COUNTER_FIELDS } from '../../native/segment/header.js';

/** Per-instrument series at most, per segment: a market of 10,000 symbols must not flood the server. */
const INSTRUMENT_LABELS_DEFAULT = 100;

export const USAGE = `usage: mdfan exporter --segment NAME [--segment NAME2 ...] --listen HOST:PORT [--max-instrument-labels N (default ${INSTRUMENT_LABELS_DEFAULT})]
  Prometheus metrics at http://HOST:PORT/metrics, read from each segment's header at every scrape:
  up, state, generation, writer alive, heartbeat age, every counter (messages, publishes, gaps,
  stale marks, takeovers, ...), readers attached, events they lost to lapping, and updates per
  instrument (the first N instruments of each segment).`;
export const EXAMPLE = 'mdfan exporter --segment books --listen 127.0.0.1:9464';
export const EXIT_CODES = '0 stopped by SIGINT/SIGTERM; 1 cannot listen; 2 bad usage';

const STATES = ['INITIALIZING', 'READY', 'BROKEN', 'CLOSED'];

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { segment: { type: 'string', multiple: true }, listen: { type: 'string' }, 'max-instrument-labels': { type: 'string' } }, USAGE);
  const segments = (values.segment as string[] | undefined) ?? [];
  if (segments.length === 0) throw new MdfanError(ErrorCode.OPTIONS, `--segment is required\n${USAGE}`, { flag: '--segment' });
  if (typeof values.listen !== 'string') throw new MdfanError(ErrorCode.OPTIONS, `--listen is required\n${USAGE}`, { flag: '--listen' });
  const { host, port } = parseHostPort(values.listen, '--listen');
  const maxLabels = intOption(values['max-instrument-labels'], '--max-instrument-labels', 0, 100_000, INSTRUMENT_LABELS_DEFAULT);

  const registry = new Registry();
  const g = (name: string, help: string, labels: string[] = ['segment']) => new Gauge({ name, help, labelNames: labels, registers: [registry] });
  const up = g('mdfan_segment_up', 'The segment exists and is an mdfan segment (1) or not (0)');
  const state = g('mdfan_segment_state', 'The segment state: 1 for the current one', ['segment', 'state']);
  const generation = g('mdfan_segment_generation', 'Writer generation (+1 at each takeover)');
  const alive = g('mdfan_writer_alive', 'The writer holds its lock and beats (1) or not (0)');
  const heartbeat = g('mdfan_writer_heartbeat_age_seconds', 'Age of the writer heartbeat');
  const instruments = g('mdfan_segment_instruments', 'Instruments in the directory');
  const readers = g('mdfan_readers', 'Readers attached through the control plane');
  const eventsLost = g('mdfan_reader_events_lost', 'Events the attached readers lost to lapping, as they last reported');
  const counters = new Map(COUNTER_FIELDS.map((f) => [f, g(`mdfan_${f}`, `The segment counter ${f} (as the writer last flushed it)`)]));
  const updates = g('mdfan_instrument_updates', `Commits to an instrument's slot in this generation (the first ${maxLabels} instruments)`, ['segment', 'symbol']);

  const scrape = async (): Promise<string> => {
    registry.resetMetrics();
    for (const name of segments) {
      let s: StatReport;
      try {
        s = await statWithReaders(name);
      } catch (e) {
        if (!isMdfanError(e)) throw e;
        up.set({ segment: name }, 0);
        continue;
      }
      up.set({ segment: name }, 1);
      for (const st of STATES) state.set({ segment: name, state: st }, s.state === st ? 1 : 0);
      generation.set({ segment: name }, s.generation);
      alive.set({ segment: name }, s.writer_alive ? 1 : 0);
      if (s.heartbeat_age_ms !== null) heartbeat.set({ segment: name }, s.heartbeat_age_ms / 1000);
      instruments.set({ segment: name }, s.instrument_count);
      if (s.readers !== null) {
        readers.set({ segment: name }, s.readers.length);
        eventsLost.set({ segment: name }, s.readers.reduce((a, r) => a + (r.events_lost ?? 0), 0));
      }
      for (const [f, gauge] of counters) gauge.set({ segment: name }, s.counters[f]);
      for (const inst of s.instruments.slice(0, maxLabels)) if (inst.updates !== null) updates.set({ segment: name, symbol: inst.symbol }, inst.updates);
    }
    return registry.metrics();
  };

  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('mdfan exporter: see /metrics\n');
      return;
    }
    scrape().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e) => res.writeHead(500).end(`mdfan exporter: ${(e as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new MdfanError(ErrorCode.SYSCALL, `cannot listen on ${host}:${port}: ${e.message}`, { host, port })));
    server.listen(port, host, () => resolve());
  });
  console.log(`mdfan exporter: http://${host}:${port}/metrics for ${segments.join(', ')}`);
  await new Promise<void>((resolve) => {
    const off = onStopSignals(() => {
      off();
      server.close(() => resolve());
    });
  });
  return 0;
}
