/**
 * A writer's control-plane refusals in its log: a peer that claims another pid, a uid or a plane
 * at its cap, a peer cut off for leaving answers unread. A flood is one line a second (with how
 * many came since the last), never a line per connection.
 */
import type { SegmentWriter } from '../native/segment/index.js';
import { LogEvent, type Logger, rateLimit } from './log.js';

/** Logs `writer`'s control-plane refusals (once its control plane runs; nothing otherwise). */
export function logControlRefusals(writer: SegmentWriter, log: Logger, segment: string): void {
  const control = writer.control;
  if (control === null) return;
  const due = rateLimit(1000);
  let refused = 0;
  control.onRefused = (reason, facts) => {
    refused++;
    if (!due()) return;
    log.warn({ event: LogEvent.CONTROL_REFUSED, segment, reason, ...facts, refused }, `control plane: a peer refused (${reason}); ${refused} since the last such line`);
    refused = 0;
  };
}
