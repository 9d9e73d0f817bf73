/**
 * A local nats-server for `bench bridge` and the bridge tests: Debian's package, JetStream on,
 * 127.0.0.1, a free port, its store in a temporary folder (kept across a restart, as a real
 * server's disk is). Started and awaited until it accepts clients; stop() removes it all.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';

export const hasNatsServer = spawnSync('nats-server', ['--version']).status === 0;

/** Resolves once nats-server `p` says it is ready (rejects, with its last output, if it exits first or takes 20 s). */
export function serverReady(p: ChildProcess): Promise<void> {
  let log = '';
  return new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      log += d.toString();
      if (log.includes('Server is ready')) resolve();
    };
    p.stderr!.on('data', onData);
    p.stdout!.on('data', onData);
    p.once('exit', (code) => reject(new Error(`nats-server exited ${code} before it was ready: ${log.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`nats-server not ready after 20 s: ${log.slice(-2000)}`)), 20_000).unref();
  });
}

/** A TCP port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class NatsServer {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly storeDir: string,
    readonly jetstream: boolean,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** `jetstream: false` starts a server without JetStream (no bucket possible): for the refusal test. */
  static async start(jetstream = true): Promise<NatsServer> {
    if (!hasNatsServer) throw new MdfanError(ErrorCode.MISSING_DEPENDENCY, 'nats-server is not installed (Debian: apt-get install nats-server)', { program: 'nats-server' });
    const s = new NatsServer(await freePort(), mkdtempSync(join(tmpdir(), 'mdfan-nats-')), jetstream);
    await s.restart();
    return s;
  }

  /** Starts the server (again, on the same port and store) and resolves once it is ready for clients. */
  async restart(): Promise<void> {
    const js = this.jetstream ? ['-js', '-sd', this.storeDir] : [];
    const p = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), ...js], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    await serverReady(p);
  }

  /** SIGKILL: the server vanishes as a crashed one does. Resolves when it has exited. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
