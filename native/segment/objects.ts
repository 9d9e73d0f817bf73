/** The POSIX objects of one segment: the data segment and the objects beside it. */
import { eventsName } from './events.js';
import { unlinkSegment } from './mapping.js';
import { registryName } from './registry.js';
import { topsName } from './tops.js';
import { lockName } from './writer-lock.js';

/**
 * /NAME, its reader registry /NAME.readers, its event ring /NAME.events, its top lines /NAME.tops
 * and, last, the lock /NAME.lock (a remover that holds it unlinks it last of all).
 */
export const segmentObjects = (name: string): string[] => [name, registryName(name), eventsName(name), topsName(name), lockName(name)];

/** Unlinks every object of segment `name` that exists; returns how many were removed. */
export function unlinkSegmentObjects(name: string): number {
  let removed = 0;
  for (const obj of segmentObjects(name)) {
    try {
      if (unlinkSegment(obj)) removed++;
    } catch {
      /* not ours to remove (permissions): the caller's report says what is left */
    }
  }
  return removed;
}
