/**
 * The end of a benchmark session that is a writer with child processes: its children SIGKILLed,
 * the writer closed and its segment's name removed (also after a close that kept it for the
 * children to see CLOSED). Registered with onAbort for Ctrl-C, and called from `finally`.
 */
import type { Child } from '../lib/child.js';
import { unlinkSegmentObjects } from '../native/segment/objects.js';
import type { SegmentWriter } from '../native/segment/writer.js';
import { onAbort } from './abort.js';

export interface WriterSession {
  readonly children: Child[];
  /** Ends the session (idempotent): children killed, writer closed, segment unlinked. */
  end(): void;
}

export function writerSession(w: SegmentWriter, name: string): WriterSession {
  const children: Child[] = [];
  const end = (): void => {
    off();
    for (const c of children) c.signal('SIGKILL');
    w.close();
    unlinkSegmentObjects(name);
  };
  const off = onAbort(end);
  return { children, end };
}
