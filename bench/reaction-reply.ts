/**
 * The reply line of `mdfan bench reaction` (native/bench/reaction_reply.h is its C face): one
 * 64-byte, 64-aligned line at offset 0 of the benchmark's own shared-memory object
 * `/mdfan-bench-reaction-<pid>-<n>.reply`, where the strategy under test writes its order. The
 * benchmark creates it (0600) and removes it; the strategy maps it read-write.
 */
import { native } from '../native/segment/binding.js';
import { Mapping, reserve, shmPath, unlinkSegment } from '../native/segment/mapping.js';

/** The line's bytes (the mapping is one page: the line is at its start, so 64-aligned). */
export const REPLY_BYTES = 64;

/** Word indexes (Uint32Array) of the reply line's fields: mdfan_reaction_reply_t. */
export const RW = Object.freeze({
  /** The order's sequence, stored last. */
  seq: 0,
  /** msg_index of the top line reacted to (low, high word). */
  msgIndexLo: 2,
  msgIndexHi: 3,
  /** The best bid seen on it, an int64 (low, high word). */
  bidPriceLo: 4,
  bidPriceHi: 5,
});

let replies = 0;

/** A new reply object's name for this process. */
export const replyName = (): string => `mdfan-bench-reaction-${process.pid}-${++replies}.reply`;

/** Creates the reply object `name` (O_EXCL, 0600), zeroed and mapped read-write. */
export function createReply(name: string): Mapping {
  const fd = native.shmOpen(shmPath(name), native.OPEN_CREATE_EXCL | native.OPEN_READ_WRITE, 0o600);
  try {
    reserve(name, fd, REPLY_BYTES);
  } catch (e) {
    native.close(fd);
    unlinkSegment(name);
    throw e;
  }
  return Mapping.map(name, fd, REPLY_BYTES, true);
}

/** Maps an existing reply object read-write (the strategy's side). */
export function openReply(name: string): Mapping {
  const fd = native.shmOpen(shmPath(name), native.OPEN_READ_WRITE, 0);
  return Mapping.map(name, fd, REPLY_BYTES, true);
}
