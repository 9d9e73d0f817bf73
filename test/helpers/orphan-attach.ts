/**
 * `node orphan-attach.js SOCKET`: connects to a control socket, attaches with its own pid, hands
 * the connection to a `sleep` it starts (the descriptor inherited), prints "sleeper <pid>" and
 * exits: a connection left open whose announced process is gone, as a crashed reader's forked
 * child leaves one. The test kills the sleeper.
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';

const sock = createConnection(process.argv[2]);
sock.on('error', (e) => {
  process.stderr.write(`orphan-attach: ${e.message}\n`);
  process.exit(1);
});
sock.on('connect', () => {
  sock.write(`${JSON.stringify({ type: 'attach', pid: process.pid, wait: 'spin' })}\n`, () => {
    const sleeper = spawn('sleep', ['600'], { stdio: ['ignore', 'ignore', 'ignore', sock], detached: true });
    sleeper.unref();
    process.stdout.write(`sleeper ${sleeper.pid}\n`, () => process.exit(0));
  });
});
