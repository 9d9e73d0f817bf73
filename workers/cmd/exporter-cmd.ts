/**
 * `mdfan exporter --segment NAME [--segment NAME2 ...] --listen HOST:PORT`: Prometheus metrics of
 * segments, served over HTTP at /metrics (prom-client). Each scrape reads the segments' headers
 * like `mdfan stat` does (a read-only mapping, a lock query): the writer's hot path is never
 * touched (exporter-scrape.ts). A segment that is not there is `mdfan_segment_up 0`, not an
 * error; a scrape that cannot tell (out of descriptors, no permission) is HTTP 500 with the code.
 * /healthz is the exporter's own liveness (200 "ok"), whatever the segments: docs/EXPORTER.md.
 */
import { createServer } from 'node:http';
import { intOption, parse, parseHostPort } from '../../lib/cli/args.js';
import { ErrorCode, MdfanError, isMdfanError } from '../../native/segment/errors.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { EXPORTER_DEFAULTS, scraper } from './exporter-scrape.js';

const D = EXPORTER_DEFAULTS;

export const USAGE = `usage: mdfan exporter --segment NAME [--segment NAME2 ...] --listen HOST:PORT [--max-instrument-labels N (default ${D.maxInstrumentLabels})]
                      [--max-connections N (default ${D.maxConnections})] [--control-timeout-ms MS (default ${D.controlTimeoutMs})]
  Prometheus metrics at http://HOST:PORT/metrics, read from each segment's header at every scrape:
  build info, up, state, generation, size, writer alive, heartbeat age (seconds), readers attached;
  counters (_total): every header counter (messages, publishes, gaps, stale marks, takeovers, ...),
  events each reader process read and lost to lapping, updates per instrument (the first N
  instruments of each segment). Names and the old ones they replace: docs/EXPORTER.md.
  http://HOST:PORT/healthz: 200 "ok" while the exporter serves (it reads no segment: a segment
  down is mdfan_segment_up 0, not an unhealthy exporter); any other path is 404.
  A segment is down (mdfan_segment_up 0) only if its name holds no mdfan segment (missing, not
  made yet, or a foreign object); a scrape that cannot tell (e.g. EMFILE) answers 500 with the
  code. Requests that arrive during a scrape share its result (one control-socket connection per
  writer at a time); at most --max-connections clients at once; GET and HEAD only (else 405).`;
export const EXAMPLE = 'mdfan exporter --segment books --listen 127.0.0.1:9464';
export const EXIT_CODES = '0 stopped by SIGINT/SIGTERM; 1 cannot listen; 2 bad usage';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      segment: { type: 'string', multiple: true },
      listen: { type: 'string' },
      'max-instrument-labels': { type: 'string' },
      'max-connections': { type: 'string' },
      'control-timeout-ms': { type: 'string' },
    },
    USAGE,
  );
  const segments = (values.segment as string[] | undefined) ?? [];
  if (segments.length === 0) throw new MdfanError(ErrorCode.OPTIONS, `--segment is required\n${USAGE}`, { flag: '--segment' });
  if (typeof values.listen !== 'string') throw new MdfanError(ErrorCode.OPTIONS, `--listen is required\n${USAGE}`, { flag: '--listen' });
  const { host, port } = parseHostPort(values.listen, '--listen');
  const maxLabels = intOption(values['max-instrument-labels'], '--max-instrument-labels', 0, 100_000, D.maxInstrumentLabels);
  const maxConnections = intOption(values['max-connections'], '--max-connections', 1, 10_000, D.maxConnections);
  const controlTimeoutMs = intOption(values['control-timeout-ms'], '--control-timeout-ms', 1, 600_000, D.controlTimeoutMs);
  const { registry, scrape } = scraper({ segments, maxLabels, controlTimeoutMs });

  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end(`mdfan exporter: ${req.method} not allowed (GET or HEAD)\n`);
      return;
    }
    // The path alone (a scrape config's params come as a query string); no URL parse that could throw on a hostile target.
    const path = (req.url ?? '').split('?', 1)[0];
    if (path === '/healthz') {
      // The exporter's own liveness: no segment read, no writer asked (a waiting scrape does not hold it up).
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('mdfan exporter: see /metrics (or /healthz)\n');
      return;
    }
    scrape().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e) => res.writeHead(500).end(`mdfan exporter: ${isMdfanError(e) ? e.message : `internal error: ${(e as Error).message}`}\n`),
    );
  });
  server.maxConnections = maxConnections;
  server.requestTimeout = D.requestTimeoutMs;
  server.headersTimeout = D.requestTimeoutMs;
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
