/**
 * The Prometheus text exposition as the exporter tests read it: samples by series, each family's
 * TYPE and HELP, and Prometheus's own linter (`promtool check metrics`, Debian's prometheus
 * package, installed by .ci/ensure-packages) on a real scrape.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** The exposition's samples: `name{labels}` -> value. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Each family's `# TYPE` and `# HELP`, by name. */
export function families(text: string): Map<string, { type?: string; help?: string }> {
  const out = new Map<string, { type?: string; help?: string }>();
  for (const line of text.split('\n')) {
    const m = /^# (TYPE|HELP) (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const f = out.get(m[2]!) ?? {};
    if (m[1] === 'TYPE') f.type = m[3];
    else f.help = m[3];
    out.set(m[2]!, f);
  }
  return out;
}

/** What `promtool check metrics` says of `text` ('' when it is clean: it exits 0 and prints nothing). */
export function promtoolProblems(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool: ${r.error.message} (Debian's prometheus package has it: .ci/ensure-packages installs it)`);
  const said = `${r.stdout}${r.stderr}`.trim();
  return r.status === 0 && said === '' ? '' : `promtool exit ${r.status}: ${said}`;
}

export async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
