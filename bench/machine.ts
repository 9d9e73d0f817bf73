/** The machine a benchmark ran on, as `mdfan bench --json` reports it. */
import { cpus, release } from 'node:os';
import { topology } from '../lib/topology.js';

export interface MachineInfo {
  cpu_model: string;
  cores: number;
  numa_nodes: number;
  l3_groups: number;
  node_version: string;
  kernel: string;
  arch: string;
}

export function machineInfo(): MachineInfo {
  const t = topology();
  const c = cpus();
  return {
    cpu_model: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    numa_nodes: t.numaNodes.length,
    l3_groups: t.l3Groups.length,
    node_version: process.version,
    kernel: release(),
    arch: process.arch,
  };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
