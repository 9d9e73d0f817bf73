/**
 * The payload every peer transport carries: one 10-level snapshot laid out like an mdfan slot
 * (64-byte header + 10 bid and 10 ask levels of 12 bytes = 304 bytes = 76 u32 words).
 *
 *   word 0     sequence number
 *   word 1     kind: DATA; WARMUP and END frame zeromq's measured period (not recorded)
 *   words 6-7  send timestamp, CLOCK_MONOTONIC ns (lo, hi): where the slot keeps publish_ts_ns
 *   the rest   payloadWord(seq, i): derived from the sequence number so a receiver can check it
 *
 * native-c uses the same derivation for the slot's level words (c_latency_reader.c has a copy).
 */
import { native } from '../../native/segment/binding.js';
import { newHistogram, type ReceiverReport } from './types.js';
import * as hdr from 'hdr-histogram-js';

export const PAYLOAD_WORDS = 76;
export const PAYLOAD_BYTES = PAYLOAD_WORDS * 4; // 304
export const W_SEQ = 0;
export const W_KIND = 1;
export const W_TS_LO = 6; // byte 24, as publish_ts_ns in the slot header
export const KIND_DATA = 0;
export const KIND_WARMUP = 1;
export const KIND_END = 2;

/** Word i of message seq (mod 2^32); the C reader computes the same. */
export function payloadWord(seq: number, i: number): number {
  return (Math.imul(seq >>> 0, 0x9e3779b1) + Math.imul(i, 40503)) >>> 0;
}

/** Fills everything but the timestamp. */
export function fillPayload(words: Uint32Array, seq: number, kind = KIND_DATA): void {
  for (let i = 0; i < PAYLOAD_WORDS; i++) words[i] = payloadWord(seq, i);
  words[W_SEQ] = seq >>> 0;
  words[W_KIND] = kind;
}

/** Stores CLOCK_MONOTONIC now; call right before the send (as the shm writer stamps at commit). */
export function stampPayload(words: Uint32Array, nowNs = native.monotonicNs()): void {
  words[W_TS_LO] = nowNs % 4294967296;
  words[W_TS_LO + 1] = Math.floor(nowNs / 4294967296);
}

export function sentNs(words: Uint32Array): number {
  return words[W_TS_LO + 1] * 4294967296 + words[W_TS_LO];
}

/** True if every word but the timestamp is what fillPayload(words, seq, kind) wrote. */
export function payloadIntact(words: Uint32Array, kind = KIND_DATA): boolean {
  if (words.length !== PAYLOAD_WORDS || words[W_KIND] !== kind) return false;
  const seq = words[W_SEQ];
  for (let i = 2; i < PAYLOAD_WORDS; i++) {
    if (i === W_TS_LO || i === W_TS_LO + 1) continue;
    if (words[i] !== payloadWord(seq, i)) return false;
  }
  return true;
}

/**
 * One receiver's tally: latency histogram, messages, corrupt payloads. Values are recorded raw
 * and corrected for coordinated omission once, in report() (hdr's copyCorrectedForCoordinatedOmission:
 * the same as recordValueWithExpectedInterval per value, up to bucket resolution). Correcting per
 * message costs O(latency / interval): a receiver that falls behind a queue would slow down the
 * more it lags, and never catch up.
 */
export class LatencyRecorder {
  private readonly raw: hdr.Histogram = newHistogram();
  count = 0;
  corrupt = 0;
  constructor(private readonly intervalNs: number) {}

  /** Records one received DATA payload (anything else is corrupt); `nowNs` is read on arrival. */
  record(words: Uint32Array, nowNs = native.monotonicNs()): void {
    this.count++;
    if (!payloadIntact(words)) {
      this.corrupt++; // its timestamp cannot be trusted either
      return;
    }
    this.recordNs(nowNs - sentNs(words));
  }

  recordNs(latencyNs: number): void {
    this.raw.recordValue(Math.max(1, Math.round(latencyNs)));
  }

  /** The corrected histogram (a new one each call). */
  histogram(): hdr.Histogram {
    return this.raw.copyCorrectedForCoordinatedOmission(this.intervalNs);
  }

  report(): ReceiverReport {
    const h = this.histogram();
    const hist = hdr.encodeIntoCompressedBase64(h);
    h.destroy();
    return { hist, count: this.count, corrupt: this.corrupt };
  }
}
