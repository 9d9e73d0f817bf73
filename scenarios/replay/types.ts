/** What one replay run produces: the JSON report's shape (docs/SCENARIOS.md describes it). */
import type * as hdr from 'hdr-histogram-js';
import type { WaitStrategy } from '../../workers/index.js';

/** Latency figures in ns: `p50`, `p90`, `p99`, `p999` (99.9), ... as configured, plus max and count. */
export type Latency = Record<string, number>;

export interface ReaderOutcome {
  index: number;
  group: string;
  wait: WaitStrategy;
  pid: number;
  exit_code: number | null;
  signal: string | null;
  updates: number;
  reads: number;
  retries: number;
  cpu_ms: number;
  latency_ns: Latency;
  stalled: boolean;
  /** MDFAN_ERR_WRITER_DEAD lines it logged. */
  writer_deaths: number;
  error?: string;
}

export interface GroupOutcome {
  group: string;
  wait: WaitStrategy;
  count: number;
  updates: number;
  reads: number;
  retries: number;
  latency_ns: Latency;
  /** Updates observed per reader as a share of the writer's publishes (a seqlock conflates). */
  observed_pct: number;
  hist?: string;
}

export interface PoolOutcome {
  workers: number;
  strategy: string;
  wait: WaitStrategy;
  pid: number;
  exit_code: number | null;
  updates: number;
  reads: number;
  retries: number;
  latency_ns: Latency;
  writer_deaths: number;
  per_worker: Array<{ worker: number; status: string; updates: number; retries: number; p50_ns: number; p99_ns: number; writer_deaths: number; error?: string }>;
  hist?: string;
  error?: string;
}

export interface Detection {
  /** Who noticed: "reader 1 (pid 1234)", "second writer (pid 99)", ... */
  by: string;
  code: string | null;
  /** From the fault's injection to the detection, ms. */
  ms: number | null;
  message?: string;
}

export interface FaultOutcome {
  kind: string;
  at_s: number;
  injected: boolean;
  /** One line: what was detected, by whom, how fast. */
  summary: string;
  detections: Detection[];
  /** The slowest detection (ms). */
  detection_ms: number | null;
  details: Record<string, unknown>;
  ok: boolean;
  reason?: string;
}

export interface StallOutcome {
  reader: number;
  pid: number;
  at_s: number;
  for_s: number;
  stopped_ms: number;
  /** Books the writer published while the reader was stopped (segment counters). */
  writer_publishes_while_stopped: number;
  /** Updates the reader recorded after it was resumed. */
  updates_after_resume: number;
  /** Books each other reader read while this one was stopped (from their --record files). */
  others_updates_while_stopped: Array<{ reader: number; updates: number }>;
  /** Per instrument: the reader's last observed msgIndex and the writer's last published one. */
  last_msg_index: Record<string, { reader: number | null; writer: number | null }>;
  read_latest: boolean;
  ok: boolean;
  reason?: string;
}

export interface Check {
  ok: boolean;
  what: string;
}

export interface RunReport {
  scenario: string;
  segment: string;
  /** Set for a sweep: the reader count of the swept group in this run. */
  sweep_readers?: number;
  started: string;
  wall_ms: number;
  /** os.availableParallelism() where the run ran: the report notes when readers and writer outnumber it. */
  cores: number;
  feed: { source: string; speed: 'max' | number; max_gap_s: number | null };
  writer: {
    pid: number;
    exit_code: number | null;
    generation: number | null;
    messages: number | null;
    publishes: number | null;
    instruments: number | null;
    /** The feed handler's own figure: messages / its replay time. */
    msgs_per_s: number | null;
    replay_s: number | null;
    writers_started: number;
  };
  groups: GroupOutcome[];
  readers: ReaderOutcome[];
  pool: PoolOutcome | null;
  stalls: StallOutcome[];
  faults: FaultOutcome[];
  checks: Check[];
  ok: boolean;
}

export interface ReplayReport {
  scenario: string;
  description: string;
  file: string;
  percentiles: number[];
  runs: RunReport[];
  ok: boolean;
  /** The reasons it failed, one per failed check. */
  failures: string[];
}

/** Histograms kept beside the report for the HTML curves (never in the JSON unless asked). */
export interface RunHistograms {
  groups: Array<{ label: string; hist: hdr.Histogram }>;
  pool: hdr.Histogram | null;
}
