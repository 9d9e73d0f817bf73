/**
 * zeromq-ipc receiver (a child process): `node zeromq-reader.js ENDPOINT INTERVAL_NS`.
 * SUB connected to the publisher; prints "ready" on its first warm-up message (the publisher
 * warms up until every receiver said so: slow joiners), records DATA messages, and on the END
 * message prints one JSON line, the ReceiverReport. Exits if its parent goes away (stdin ends).
 */
import * as zmq from 'zeromq';
import { native } from '../../native/segment/binding.js';
import { KIND_END, KIND_WARMUP, LatencyRecorder, PAYLOAD_BYTES, PAYLOAD_WORDS, W_KIND } from './payload.js';

const [endpoint, intervalArg] = process.argv.slice(2);
const intervalNs = Number(intervalArg);
if (!endpoint || !(intervalNs > 0)) {
  process.stderr.write('usage: zeromq-reader.js ENDPOINT INTERVAL_NS\n');
  process.exit(2);
}
process.stdin.on('end', () => process.exit(3)).resume();

const rec = new LatencyRecorder(intervalNs);
const words = new Uint32Array(PAYLOAD_WORDS); // aligned copy: a message buffer may not be
const bytes = new Uint8Array(words.buffer);
const sub = new zmq.Subscriber({ receiveHighWaterMark: 0 }); // 0: no limit, nothing dropped
sub.connect(endpoint);
sub.subscribe();
let ready = false;
for await (const [msg] of sub) {
  const now = native.monotonicNs();
  if (msg.length !== PAYLOAD_BYTES) {
    rec.count++;
    rec.corrupt++;
    continue;
  }
  bytes.set(msg);
  const kind = words[W_KIND];
  if (kind === KIND_WARMUP) {
    if (!ready) process.stdout.write('ready\n');
    ready = true;
  } else if (kind === KIND_END) break;
  else rec.record(words, now); // DATA, or counted corrupt
}
process.stdout.write(`${JSON.stringify(rec.report())}\n`, () => process.exit(0));
