/**
 * unix-socket receiver (a child process): `node unix-socket-reader.js SOCKET_PATH INTERVAL_NS`.
 * Connects, records each 304-byte frame, and when the server ends the stream prints one JSON line,
 * the ReceiverReport, on stdout. Exits if its parent goes away (stdin ends).
 */
import { connect } from 'node:net';
import { native } from '../../native/segment/binding.js';
import { FrameReader } from './frames.js';
import { LatencyRecorder } from './payload.js';

const [path, intervalArg] = process.argv.slice(2);
const intervalNs = Number(intervalArg);
if (!path || !(intervalNs > 0)) {
  process.stderr.write('usage: unix-socket-reader.js SOCKET_PATH INTERVAL_NS\n');
  process.exit(2);
}
const rec = new LatencyRecorder(intervalNs);
const frames = new FrameReader();
const onFrame = (words: Uint32Array): void => rec.record(words, native.monotonicNs());
const sock = connect(path);
sock.on('data', (chunk: Buffer) => frames.push(chunk, onFrame));
sock.on('end', () => {
  if (frames.pending !== 0) rec.corrupt++; // a truncated last frame
  process.stdout.write(`${JSON.stringify(rec.report())}\n`, () => process.exit(0));
});
sock.on('error', (e) => {
  process.stderr.write(`unix-socket reader: ${path}: ${e.message}\n`);
  process.exit(1);
});
process.stdin.on('end', () => process.exit(3)).resume();
