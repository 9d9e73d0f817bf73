// On another host: subscribes to what `mdfan bridge` publishes for some symbols over NATS and
// decodes the records with mdfan's `wire` decoder (the format is in docs/BRIDGE.md). Needs the
// NATS client beside mdfan: npm install @nats-io/transport-node
//   node nats-subscriber.js nats://HOST:4222 [SYMBOL ...]
import { type Msg, connect } from '@nats-io/transport-node';
import { escapeSymbol, wire } from 'mdfan';

const [server = 'nats://127.0.0.1:4222', ...symbols] = process.argv.slice(2);
const prefix = 'md'; // the bridge's --prefix (md unless it was given another)
const nc = await connect({ servers: server });
// One subject per symbol and type: PREFIX.SYMBOL.top, .book, .trade, .status (symbols escaped:
// BRK.B is BRK=2EB); without symbols, every symbol's.
const subjects = symbols.length > 0 ? symbols.map((s) => `${prefix}.${escapeSymbol(s)}.>`) : [`${prefix}.>`];
const subs = subjects.map((subject) => nc.subscribe(subject));
await nc.flush(); // the server has the subscriptions: nothing published from now on is missed
console.log(`subscribed to ${subjects.join(', ')} on ${server}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void nc.drain());

// A level is price, size, orders (the segment's layout), as the wire's integers: pxOf and qtyOf
// turn them into currency and instrument units at the record's own decimals.
const level = (h: wire.Head, s: wire.DecodedSide, i: number): string =>
  i < s.count ? `${wire.qtyOf(h, s.levels[i * 3 + 1]!)} @ ${wire.pxOf(h, s.levels[i * 3]!)}` : 'none';

function show(m: Msg): void {
  let r: wire.Decoded;
  try {
    r = wire.decode(m.data);
  } catch (e) {
    console.log(`${m.subject}: not a record (${(e as Error).message})`); // a WireError names what is wrong
    return;
  }
  const h = r.head;
  const stale = h.flags & wire.WireFlag.STALE ? ' STALE' : '';
  if ('top' in r) {
    console.log(`${h.symbol} top bid ${level(h, r.top.bid, 0)} ask ${level(h, r.top.ask, 0)} (message ${h.msgIndex})${stale}`);
  } else if ('book' in r) {
    console.log(`${h.symbol} book ${r.book.bids.count}x${r.book.asks.count} levels, best bid ${level(h, r.book.bids, 0)} ask ${level(h, r.book.asks, 0)} (message ${h.msgIndex})${stale}`);
  } else if ('trade' in r) {
    // A trade's price is on the event ring's scale, 10^-9 of the currency unit, whatever
    // priceDecimals says: tradePx divides by that. Its size is at the record's size decimals.
    const px = wire.tradePx(r.trade);
    console.log(`${h.symbol} trade ${wire.qtyOf(h, r.trade.size)} @ ${Number.isNaN(px) ? 'no price' : px} (message ${h.msgIndex})`);
  } else {
    console.log(`${h.symbol} status ${String.fromCharCode(r.status.action)} (message ${h.msgIndex})`);
  }
}

// Each subscription is an async iterator of messages; they end when the connection drains.
await Promise.all(
  subs.map(async (sub) => {
    for await (const m of sub) show(m);
  }),
);
