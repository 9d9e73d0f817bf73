/**
 * The core-to-core cache-line handoff (native two-thread ping-pong): the physical limit every
 * publish->observe latency is compared with. Median over runs of each percentile.
 */
import { native } from '../native/segment/binding.js';
import { benchNative } from './bench-addon.js';
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { medianPercentiles } from './section.js';

export interface C2cResult {
  cpus: [number, number];
  p50: number;
  p99: number;
  p999: number;
  pinned: boolean;
  runs: number;
}

/** Ping-pong between the first two CPUs this process may run on (or the given pair). */
export function c2cBaseline(runs: number, roundTrips = 200_000, cpus?: [number, number]): C2cResult {
  const allowed = native.getAffinity();
  const pair: [number, number] = cpus ?? [allowed[0], allowed[1] ?? allowed[0]];
  const res = Array.from({ length: runs }, () => benchNative().c2cPingPong(pair[0], pair[1], roundTrips));
  native.setAffinity(allowed); // the ping-pong pinned this thread: give it its CPUs back
  const { p50, p99, p999 } = medianPercentiles(res.map((r) => percentilesOf(r.oneWayNs)));
  return {
    cpus: pair,
    p50,
    p99,
    p999,
    pinned: res.every((r) => r.pinned),
    runs,
  };
}

/** A section's baseline entry for the handoff, `c2c_one_way_ns` (the HTML report draws its p50 on the latency plot). */
export const c2cBaselineEntry = (c: C2cResult): { c2c_one_way_ns: Pick<LatencyPercentiles, 'p50' | 'p99'> } => ({ c2c_one_way_ns: { p50: c.p50, p99: c.p99 } });
