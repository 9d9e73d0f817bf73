/**
 * The bridge tests' servers: the plain one `bench bridge` starts (bench/nats-server.ts), and one
 * started from a configuration (identities, permissions, TLS) for the authentication tests, in its
 * own temporary folder with its JetStream store; stop() removes it all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, serverReady } from '../../bench/nats-server.js';

export { NatsServer, hasNatsServer } from '../../bench/nats-server.js';

export class ConfiguredNatsServer {
  private constructor(
    readonly port: number,
    readonly dir: string,
    private proc: ChildProcess | null,
    private readonly ownsDir: boolean,
  ) {}

  /** nats://127.0.0.1:PORT (or tls://). */
  url(scheme: 'nats' | 'tls' = 'nats'): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  /**
   * Starts nats-server on 127.0.0.1 and a free port with JetStream and `config` (the
   * authorization, tls or operator blocks; `$VAR` in it are taken from `env`); resolves once it
   * accepts clients. `dir`: where the test keeps its files (certificates), else a new folder.
   */
  static async start(config: string, env: NodeJS.ProcessEnv = {}, dir?: string): Promise<ConfiguredNatsServer> {
    const port = await freePort();
    const home = dir ?? mkdtempSync(join(tmpdir(), 'mdfan-nats-conf-'));
    const file = join(home, `server-${port}.conf`);
    writeFileSync(file, `listen: 127.0.0.1:${port}\njetstream { store_dir: ${JSON.stringify(join(home, `js-${port}`))} }\n${config}\n`);
    const p = spawn('nats-server', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const s = new ConfiguredNatsServer(port, home, p, dir === undefined);
    try {
      await serverReady(p);
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  /** Kills the server; removes its store, and its folder if it made it. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (p && p.exitCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    }
    rmSync(this.ownsDir ? this.dir : join(this.dir, `js-${this.port}`), { recursive: true, force: true });
    if (!this.ownsDir) rmSync(join(this.dir, `server-${this.port}.conf`), { force: true });
  }
}
