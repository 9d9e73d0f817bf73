/**
 * Binance's REST request-weight limit as a budget: the IP may spend `limit` weight per minute
 * (windows start on the minute: the server's X-MBX-USED-WEIGHT-1M counts from there). What is
 * used is the server's word when it gives it (it counts every program on this IP), else our own
 * count. A request that would take the window past `share` of the limit waits for the next window:
 * the rest is left to the other programs on the IP, and a 429 (then a 418 ban) is never earned.
 */

export const WINDOW_MS = 60_000;
/** Past the window's start, ms, before a waiting request goes: the clocks of the two ends differ a little. */
const WINDOW_MARGIN_MS = 250;

export class WeightBudget {
  private windowIndex = -1;
  private usedInWindow = 0;

  constructor(
    /** REQUEST_WEIGHT per minute (the venue's). */
    private readonly limit: number,
    /** The part of it this program may use (0..1]. */
    private readonly share: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Weight used in the current window, as last known. */
  get used(): number {
    this.roll();
    return this.usedInWindow;
  }

  /** ms to wait before a request of `weight` may go (0: now). */
  delayMs(weight: number): number {
    this.roll();
    if (this.usedInWindow + weight <= this.limit * this.share) return 0;
    return (this.windowIndex + 1) * WINDOW_MS - this.now() + WINDOW_MARGIN_MS;
  }

  /** A request of `weight` went out (counted until the server says better). */
  spend(weight: number): void {
    this.roll();
    this.usedInWindow += weight;
  }

  /** The server's X-MBX-USED-WEIGHT-1M: the IP's use in the current window. */
  report(serverUsed: number): void {
    if (!Number.isFinite(serverUsed) || serverUsed < 0) return;
    this.roll();
    this.usedInWindow = serverUsed;
  }

  private roll(): void {
    const w = Math.floor(this.now() / WINDOW_MS);
    if (w !== this.windowIndex) {
      this.windowIndex = w;
      this.usedInWindow = 0;
    }
  }
}
