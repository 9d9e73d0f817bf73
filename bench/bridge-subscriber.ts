/**
 * `bench bridge`'s receiver (a child process): `node bridge-subscriber.js URL SUBJECT INTERVAL_NS`.
 * A callback subscription on SUBJECT; each record's latency is this host's CLOCK_MONOTONIC at
 * receipt minus the record's publishTsNs (the origin writer's commit, same clock: same host).
 * Prints "ready" once subscribed, and on SIGTERM one JSON line: count and the HDR histogram.
 */
import * as hdr from 'hdr-histogram-js';
import { connect } from '@nats-io/transport-node';
import { native } from '../native/segment/binding.js';
import { newLatencyHistogram, wire } from '../workers/index.js';

const [url, subject, intervalArg] = process.argv.slice(2);
if (!url || !subject) {
  process.stderr.write('usage: bridge-subscriber.js URL SUBJECT INTERVAL_NS\n');
  process.exit(2);
}
const intervalNs = Number(intervalArg ?? 0);
const hist = newLatencyHistogram();
let count = 0;
const nc = await connect({ servers: url });
nc.subscribe(subject, {
  callback: (_err, msg) => {
    const now = native.monotonicNs();
    const d = msg.data;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const published = dv.getUint32(wire.HEAD.publishTsNs + 4, true) * 4294967296 + dv.getUint32(wire.HEAD.publishTsNs, true);
    const ns = Math.max(1, Math.round(now - published));
    if (intervalNs > 0) hist.recordValueWithExpectedInterval(ns, intervalNs);
    else hist.recordValue(ns);
    count++;
  },
});
await nc.flush();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void nc.close().then(() => {
    process.stdout.write(`${JSON.stringify({ count, hist: hdr.encodeIntoCompressedBase64(hist) })}\n`);
    process.exit(0);
  });
});
