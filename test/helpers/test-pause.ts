/**
 * The test's side of native/segment/test-pause.ts: wait until a process reached its pause, then
 * let it go (the FIFO opens for writing once the process has it open for reading).
 */
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { waitUntil } from './wait.js';

export const pauseReached = (fifo: string, what: string): Promise<unknown> => waitUntil(() => existsSync(`${fifo}.reached`), 20_000, { what });

export async function releasePause(fifo: string, what: string): Promise<void> {
  await waitUntil(
    () => {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        return true;
      } catch {
        return false;
      }
    },
    20_000,
    { what },
  );
}
