/** Waits until `pred()` holds, polling every 10 ms; throws naming what (a string or its maker) after timeoutMs. */
export async function until(pred: () => boolean, timeoutMs: number, what: string | (() => string) = 'a condition'): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
