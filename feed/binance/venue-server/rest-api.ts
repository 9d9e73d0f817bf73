/**
 * A venue-replay's REST side: the depth endpoints of the three markets (`/api/v3/depth`,
 * `/fapi/v1/depth`, `/dapi/v1/depth`, all answering from the same books), with Binance's
 * answers to what a client gets wrong (HTTP 400 and the venue's `{"code":...,"msg":...}`), its
 * X-MBX-USED-WEIGHT-1M header counted per client address and minute, and the documented
 * weights of a depth request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const DEPTH_PATHS: ReadonlySet<string> = new Set(['/api/v3/depth', '/fapi/v1/depth', '/dapi/v1/depth']);

/** Binance's error bodies, by the venue's codes. */
export const VenueErrors = Object.freeze({
  invalidSymbol: { status: 400, code: -1121, msg: 'Invalid symbol.' },
  missingSymbol: { status: 400, code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." },
  badLimit: { status: 400, code: -1100, msg: "Illegal characters found in parameter 'limit'; legal range is '1..5000'." },
  notFound: { status: 404, code: -1000, msg: 'Unknown path.' },
  notYet: { status: 503, code: -1001, msg: 'Internal error; unable to process your request. Please try again.' },
});
type VenueError = (typeof VenueErrors)[keyof typeof VenueErrors];

/** Weight of a depth request of `limit` levels: spot's table, or the futures markets'. */
export function depthWeight(path: string, limit: number): number {
  if (path === '/api/v3/depth') return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

/** A parsed depth request, or the error to answer. */
export type DepthRequest = { symbol: string; limit: number; weight: number } | { error: VenueError };

export function parseDepthRequest(req: IncomingMessage): DepthRequest | null {
  const url = new URL(req.url ?? '/', 'http://venue');
  if (req.method !== 'GET' || !DEPTH_PATHS.has(url.pathname)) return null;
  const symbol = url.searchParams.get('symbol') ?? '';
  if (!/^[A-Za-z0-9_]{1,32}$/.test(symbol)) return { error: VenueErrors.missingSymbol };
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? (url.pathname === '/api/v3/depth' ? 100 : 500) : /^\d{1,4}$/.test(limitText) ? Number(limitText) : 0;
  if (limit < 1 || limit > 5000) return { error: VenueErrors.badLimit };
  return { symbol: symbol.toUpperCase(), limit, weight: depthWeight(url.pathname, limit) };
}

/** Weight used per client address in the current minute (the X-MBX-USED-WEIGHT-1M header). */
export class WeightCounter {
  private minute = -1;
  private readonly used = new Map<string, number>();

  add(address: string, weight: number): number {
    const m = Math.floor(Date.now() / 60_000);
    if (m !== this.minute) {
      this.minute = m;
      this.used.clear();
    }
    const n = (this.used.get(address) ?? 0) + weight;
    this.used.set(address, n);
    return n;
  }
}

export function sendJson(res: ServerResponse, status: number, body: string, usedWeight?: number): void {
  const headers: Record<string, string | number> = { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(body) };
  if (usedWeight !== undefined) headers['x-mbx-used-weight-1m'] = usedWeight;
  res.writeHead(status, headers);
  res.end(body);
}

export function sendVenueError(res: ServerResponse, e: VenueError, usedWeight?: number): void {
  sendJson(res, e.status, JSON.stringify({ code: e.code, msg: e.msg }), usedWeight);
}
