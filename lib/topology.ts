/**
 * The machine's topology from /sys: CPUs per NUMA node and per shared L3. Plain file reads, so
 * it lives in TypeScript rather than the addon.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface Topology {
  cpus: number[];
  numaNodes: Array<{ node: number; cpus: number[] }>;
  l3Groups: number[][];
}

/** Parses a kernel cpulist such as "0-3,8,10-11". */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`bad cpulist element ${JSON.stringify(part)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

const read = (p: string): string | null => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
};

export function topology(sys = '/sys/devices/system'): Topology {
  const online = read(`${sys}/cpu/online`);
  const cpus = online ? parseCpuList(online) : [];
  const numaNodes: Topology['numaNodes'] = [];
  let nodeDirs: string[] = [];
  try {
    nodeDirs = readdirSync(`${sys}/node`).filter((d) => /^node\d+$/.test(d));
  } catch {
    /* no NUMA info: one node */
  }
  for (const d of nodeDirs.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))) {
    const list = read(`${sys}/node/${d}/cpulist`);
    if (list !== null) numaNodes.push({ node: Number(d.slice(4)), cpus: parseCpuList(list) });
  }
  if (numaNodes.length === 0) numaNodes.push({ node: 0, cpus });
  const groups = new Map<string, number[]>();
  for (const c of cpus) {
    const shared = read(`${sys}/cpu/cpu${c}/cache/index3/shared_cpu_list`);
    const key = shared ? parseCpuList(shared).join(',') : `cpu${c}`;
    if (!groups.has(key)) groups.set(key, shared ? parseCpuList(shared) : [c]);
  }
  return { cpus, numaNodes, l3Groups: [...groups.values()] };
}
