/**
 * A test-only pause that makes a race certain: `testPause(VAR)` reads the environment variable
 * once; when it names a FIFO, the pause writes FIFO.reached, then waits until the FIFO is opened
 * for writing and closed (the test acts in that window). Once per process: a retry never pauses
 * again. Without the variable it is a no-op.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export function testPause(variable: string): () => void {
  const fifo = process.env[variable];
  let done = false;
  return () => {
    if (!fifo || done) return;
    done = true;
    writeFileSync(`${fifo}.reached`, '');
    readFileSync(fifo);
  };
}
