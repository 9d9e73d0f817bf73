/**
 * Receive times in ns since the epoch: a capture line's `recv_ns` and what a live source hands the
 * market. The wall clock is read once, at the first call, and later times are that instant plus the
 * monotonic clock's ns since (process.hrtime.bigint): ns resolution and never going backwards,
 * with the wall clock's accuracy (ms) for the offset. Kept as BigInt: ns since the epoch exceed 2^53.
 */
let baseEpochNs = -1n;
let baseHrNs = 0n;

export function recvNs(): bigint {
  const hr = process.hrtime.bigint();
  if (baseEpochNs < 0n) {
    baseEpochNs = BigInt(Date.now()) * 1_000_000n;
    baseHrNs = hr;
  }
  return baseEpochNs + (hr - baseHrNs);
}
