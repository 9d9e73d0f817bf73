/**
 * `mdfan exporter` under load: out of descriptors, a scrape is HTTP 500 with the code, never a
 * live segment reported down; concurrent scrapes share one, so the writer sees one control
 * connection whatever the number of requests; /healthz answers while a scrape waits.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentWriter } from '../native/segment/index.js';
import { writeControlPath } from '../native/segment/control.js';
import { spawnMdfan } from '../lib/child.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-exp-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** One raw HTTP/1.1 GET of /metrics: `sent` once the request is in the kernel, `response` with the status and body. */
function rawGet(port: number): { sock: Socket; sent: Promise<void>; response: Promise<{ status: number; body: string }> } {
  const sock = createConnection(port, '127.0.0.1');
  let text = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    text += d;
  });
  const sent = new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.on('connect', () => sock.write('GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n', () => resolve()));
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    sock.once('error', reject);
    sock.on('end', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
  });
  return { sock, sent, response };
}

/** Bytes the exporter has not read yet on its side of the connection from local port `clientPort` (from /proc/net/tcp), or null if not there. */
function unreadByServer(serverPort: number, clientPort: number): number | null {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    if (f[1].endsWith(`:${hex(serverPort)}`) && f[2].endsWith(`:${hex(clientPort)}`)) return Number.parseInt(f[4].split(':')[1], 16);
  }
  return null;
}

test('out of descriptors, a scrape is 500 naming EMFILE, not mdfan_segment_up 0 for a live segment', async () => {
  if (spawnSync('prlimit', ['--version']).status !== 0) {
    console.log('  (skipped: no prlimit to lower the exporter\'s descriptor limit)');
    return;
  }
  const name = segName('exp-emfile');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w.startIdleHeartbeat();
  const port = await freeTcpPort();
  const exp = spawnMdfan('exporter', ['exporter', '--segment', name, '--listen', `127.0.0.1:${port}`]);
  try {
    await exp.line(/^mdfan exporter: http/, 20_000); // idle from now on: its descriptors stay as they are
    // Leave the exporter exactly one free descriptor: the scrape's connection takes it, the segment finds none.
    const used = new Set(readdirSync(`/proc/${exp.pid}/fd`).map(Number));
    let free = 0;
    while (used.has(free)) free++;
    const lim = spawnSync('prlimit', ['--pid', String(exp.pid), `--nofile=${free + 1}:${free + 1}`], { encoding: 'utf8' });
    assert.is(lim.status, 0, lim.stderr);
    const r = rawGet(port);
    const res = await r.response;
    assert.is(res.status, 500, res.body);
    assert.match(res.body, 'EMFILE');
    assert.match(res.body, name);
    assert.not.match(res.body, 'mdfan_segment_up');
  } finally {
    await exp.kill();
    w.close({ unlink: true });
  }
});

test('concurrent scrapes share one: the writer\'s control socket sees one connection for all of them; /healthz does not wait for it', async () => {
  const name = segName('exp-shared');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w.startIdleHeartbeat();
  // A stand-in for the writer's control socket: it counts connections and answers a list only when told.
  const path = join(dir, 'shared.ctl');
  let connections = 0;
  const asked: Socket[] = [];
  const fake: Server = createServer((s) => {
    connections++;
    s.setEncoding('utf8');
    s.on('error', () => undefined);
    s.on('data', (d: string) => {
      if (d.includes('"list"')) asked.push(s);
    });
  });
  await new Promise<void>((r) => fake.listen(path, () => r()));
  writeControlPath(w.map, path);
  const port = await freeTcpPort();
  const exp = spawnMdfan('exporter', ['exporter', '--segment', name, '--listen', `127.0.0.1:${port}`, '--control-timeout-ms', '120000']);
  const gets: Array<ReturnType<typeof rawGet>> = [];
  try {
    await exp.line(/^mdfan exporter: http/, 20_000);
    gets.push(rawGet(port));
    await waitUntil(() => asked.length === 1, 20_000, { what: 'the first scrape to ask the writer for its readers' });
    for (let i = 0; i < 7; i++) gets.push(rawGet(port));
    await Promise.all(gets.map((g) => g.sent));
    // Every request read by the exporter (so handled: Node parses and dispatches a request as it reads it) before the answer comes.
    await waitUntil(() => gets.every((g) => unreadByServer(port, g.sock.localPort!) === 0), 20_000, { what: 'the exporter to read all 8 requests' });
    // /healthz reads no segment and asks no writer: it answers while the scrape still waits on one.
    const health = await Promise.race([
      fetch(`http://127.0.0.1:${port}/healthz`).then(async (r) => `${r.status} ${await r.text()}`),
      new Promise<string>((r) => setTimeout(() => r('no answer in 20 s'), 20_000).unref()),
    ]);
    assert.is(health, '200 ok\n', '/healthz while a scrape waits on the writer');
    for (const s of asked) s.write('{"type":"readers","readers":[{"pid":1,"wait":"spin","since":"x"}]}\n');
    const all = await Promise.all(gets.map((g) => g.response));
    for (const r of all) {
      assert.is(r.status, 200, r.body);
      assert.match(r.body, `mdfan_readers{segment="${name}"} 1`);
    }
    assert.is(connections, 1, 'one control connection for eight concurrent scrapes');
  } finally {
    for (const g of gets) g.sock.destroy();
    await exp.kill();
    fake.close();
    w.close({ unlink: true });
  }
});

test('--max-connections: clients past the cap are hung up on without an answer; the exporter serves again once they leave', async () => {
  const name = segName('exp-maxconn');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  const port = await freeTcpPort();
  const exp = spawnMdfan('exporter', ['exporter', '--segment', name, '--listen', `127.0.0.1:${port}`, '--max-connections', '2']);
  const socks: Socket[] = [];
  /** A connection that sends `request` and collects what comes back until the exporter closes it. */
  const open = (request: string): { sock: Socket; sent: Promise<void>; closed: Promise<string> } => {
    const sock = createConnection(port, '127.0.0.1');
    socks.push(sock);
    let text = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined); // a hang-up may be a reset
    sock.on('data', (d: string) => {
      text += d;
    });
    const sent = new Promise<void>((resolve) => sock.on('connect', () => sock.write(request, () => resolve())));
    const closed = new Promise<string>((resolve) => sock.on('close', () => resolve(text)));
    return { sock, sent, closed };
  };
  try {
    await exp.line(/^mdfan exporter: http/, 20_000);
    // Two clients that never finish their request hold the two places (read by the exporter: taken in).
    const held = [open('GET /metrics HTTP/1.1\r\nHost: test\r\n'), open('GET /metrics HTTP/1.1\r\nHost: test\r\n')];
    await Promise.all(held.map((h) => h.sent));
    await waitUntil(() => held.every((h) => unreadByServer(port, h.sock.localPort!) === 0), 20_000, { what: 'the exporter to take in the two held clients' });
    const third = open('GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
    assert.is(await third.closed, '', 'a third client past --max-connections 2 was served');
    for (const h of held) h.sock.destroy();
    const status = await waitUntil(
      async () => {
        const r = open('GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
        const text = await r.closed;
        return text.startsWith('HTTP/1.1 200') ? 200 : null;
      },
      20_000,
      { what: 'the exporter to serve once the held clients left' },
    );
    assert.is(status, 200);
  } finally {
    for (const s of socks) s.destroy();
    await exp.kill();
    w.close({ unlink: true });
  }
});

test.run();
