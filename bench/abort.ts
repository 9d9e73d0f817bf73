/**
 * Cleanup on Ctrl-C: a benchmark interrupted by SIGINT or SIGTERM skips its finally blocks, and
 * would leave its segment, temp files and reader processes (which wait for a new writer forever)
 * behind. Each session registers what to undo while it runs; `mdfan bench` runs them all on a
 * signal, newest first, then exits 130 (SIGINT) or 143 (SIGTERM).
 */
const actions = new Set<() => void>();

/** Registers an undo step; call the returned function when the session cleaned up itself. */
export function onAbort(undo: () => void): () => void {
  actions.add(undo);
  return () => void actions.delete(undo);
}

export function installAbortHandlers(log: (s: string) => void): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`mdfan bench: ${sig}: stopping readers, removing segments and temp files`);
      for (const undo of [...actions].reverse()) {
        try {
          undo();
        } catch {
          /* best effort: go on with the rest */
        }
      }
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}
