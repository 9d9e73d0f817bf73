/**
 * `mdfan bench numa`: the topology (NUMA nodes, CPUs sharing an L3) and publish -> observe
 * latency for a writer and one spinning reader pinned to two CPUs: on the same L3, on
 * different L3s, and on different NUMA nodes with the segment's memory bound (mbind) first to
 * the writer's node, then to the reader's. A placement this machine does not have is reported as
 * unavailable, with the reason; what it has is measured.
 */
import { native } from '../native/segment/binding.js';
import { topology, type Topology } from '../lib/topology.js';
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { LATENCY_COLUMNS, medianPercentiles } from './section.js';
import { newHistogram, shmSession } from './shm-session.js';
import type { Curve, Section } from './report/types.js';
import { c2cBaselineEntry, type C2cResult } from './c2c.js';
import { benchNative } from './bench-addon.js';

export interface NumaOptions {
  runs: number;
  seconds: number;
  rate: number;
  log: (s: string) => void;
}

interface Placement {
  placement: string;
  writer_cpu: number | null;
  reader_cpu: number | null;
  memory_node: number | null;
  available: boolean;
  reason?: string;
}

const nodeOf = (t: Topology, cpu: number): number => t.numaNodes.find((n) => n.cpus.includes(cpu))?.node ?? 0;
const l3Of = (t: Topology, cpu: number): number => t.l3Groups.findIndex((g) => g.includes(cpu));

/** Picks one CPU pair per placement from the CPUs this process may use. */
export function placements(t: Topology, allowed: number[]): Placement[] {
  const pairs: Array<[number, number]> = [];
  for (const a of allowed) for (const b of allowed) if (a !== b) pairs.push([a, b]);
  const find = (pred: (a: number, b: number) => boolean): [number, number] | undefined => pairs.find(([a, b]) => pred(a, b));
  const out: Placement[] = [];
  const sameL3 = find((a, b) => l3Of(t, a) === l3Of(t, b));
  out.push(sameL3
    ? { placement: 'same L3', writer_cpu: sameL3[0], reader_cpu: sameL3[1], memory_node: nodeOf(t, sameL3[0]), available: true }
    : { placement: 'same L3', writer_cpu: null, reader_cpu: null, memory_node: null, available: false, reason: 'no two usable CPUs share an L3' });
  const diffL3 = find((a, b) => l3Of(t, a) !== l3Of(t, b) && nodeOf(t, a) === nodeOf(t, b));
  out.push(diffL3
    ? { placement: 'different L3, same node', writer_cpu: diffL3[0], reader_cpu: diffL3[1], memory_node: nodeOf(t, diffL3[0]), available: true }
    : { placement: 'different L3, same node', writer_cpu: null, reader_cpu: null, memory_node: null, available: false, reason: `${t.l3Groups.length} L3 group(s) on ${t.numaNodes.length} node(s): no such pair` });
  const diffNode = find((a, b) => nodeOf(t, a) !== nodeOf(t, b));
  for (const side of ['writer', 'reader'] as const) {
    const placement = `different nodes, memory on the ${side}'s node`;
    out.push(diffNode
      ? { placement, writer_cpu: diffNode[0], reader_cpu: diffNode[1], memory_node: nodeOf(t, side === 'writer' ? diffNode[0] : diffNode[1]), available: true }
      : { placement, writer_cpu: null, reader_cpu: null, memory_node: null, available: false, reason: `${t.numaNodes.length} NUMA node(s): no cross-node pair` });
  }
  return out;
}

export async function numaBench(o: NumaOptions, c2c: C2cResult): Promise<Section> {
  const t = topology();
  const results: Array<Record<string, unknown>> = [];
  const curves: Curve[] = [];
  for (const p of placements(t, native.getAffinity())) {
    if (!p.available) {
      results.push({ ...p });
      o.log(`  ${p.placement}: not available (${p.reason})`);
      continue;
    }
    const lat: LatencyPercentiles[] = [];
    const merged = newHistogram();
    let boundNode = -1;
    for (let r = 0; r < o.runs; r++) {
      const s = await shmSession({
        readers: 1, wait: 'spin', host: 'process', rate: o.rate, seconds: o.seconds,
        writerCpu: p.writer_cpu!, readerCpus: [p.reader_cpu!],
        prepare: (w) => {
          benchNative().mbind(w.map.buffer, p.memory_node!);
          boundNode = benchNative().memNode(w.map.buffer, w.layout.slotsOffset); // where the slot really is
        },
      });
      lat.push(percentilesOf(s.histogram));
      merged.add(s.histogram);
    }
    const pct = medianPercentiles(lat);
    results.push({ ...p, slot_page_node: boundNode, latency_ns: pct, ratio_to_c2c_p50: pct.p50 / c2c.p50, runs: o.runs });
    curves.push({ label: p.placement, histogram: merged });
    o.log(`  ${p.placement} (CPU ${p.writer_cpu} -> ${p.reader_cpu}, memory on node ${boundNode}): p50 ${pct.p50} ns, p99 ${pct.p99} ns`);
  }
  return {
    benchmark: 'numa',
    title: `NUMA and L3 placement: ${t.numaNodes.length} NUMA node(s), ${t.l3Groups.length} L3 group(s) (${t.l3Groups.map((g) => `[${g.join(',')}]`).join(' ')}), median of ${o.runs} runs`,
    baseline: { ...c2cBaselineEntry(c2c), numa_nodes: t.numaNodes.map((n) => ({ node: n.node, cpus: n.cpus })), l3_groups: t.l3Groups, rate_per_s: o.rate },
    results,
    columns: [
      { key: 'placement', label: 'placement' },
      { key: 'available', label: 'available' },
      { key: 'writer_cpu', label: 'writer CPU' },
      { key: 'reader_cpu', label: 'reader CPU' },
      { key: 'slot_page_node', label: 'memory node' },
      ...LATENCY_COLUMNS,
      { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 1 },
      { key: 'reason', label: 'why not' },
    ],
    note: 'One spinning reader process and the writer, each pinned; the segment is bound to one node with mbind(MPOL_BIND, MPOL_MF_MOVE) before publishing, and the node that holds the slot page is read back with get_mempolicy.',
    curves,
  };
}
