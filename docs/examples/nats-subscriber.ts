// On another host: subscribes to what `mdfan bridge` publishes for one symbol over NATS and
// decodes the records with mdfan's `wire` decoder (the format is in docs/BRIDGE.md). Needs the
// NATS client beside mdfan: npm install @nats-io/transport-node
//   node nats-subscriber.js nats://HOST:4222 SYMBOL [PREFIX]
import { connect } from '@nats-io/transport-node';
import { abi, escapeSymbol, wire } from 'mdfan';

const [server = 'nats://127.0.0.1:4222', symbol = 'GOOG', prefix = 'md'] = process.argv.slice(2);
const nc = await connect({ servers: server });
// One subject per symbol and type: PREFIX.SYMBOL.top, .book, .trade, .status (symbols escaped:
// BRK.B is BRK=2EB).
const sub = nc.subscribe(`${prefix}.${escapeSymbol(symbol)}.>`);
await nc.flush(); // the server has the subscription: nothing published from now on is missed
console.log(`subscribed to ${sub.getSubject()} on ${server}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void nc.drain());

// A level is price, size, orders (the segment's layout), as the wire's integers.
const level = (s: wire.DecodedSide, i: number, priceScale: number, sizeScale: number): string =>
  i < s.count ? `${s.levels[i * 3 + 1]! / sizeScale} @ ${s.levels[i * 3]! / priceScale}` : 'none';

for await (const m of sub) {
  let r: wire.Decoded;
  try {
    r = wire.decode(m.data);
  } catch (e) {
    console.log(`${m.subject}: not a record (${(e as Error).message})`); // a WireError names what is wrong
    continue;
  }
  const h = r.head;
  // Top and book prices are in 10^-priceDecimals, sizes in 10^-sizeDecimals, declared per record.
  const priceScale = 10 ** h.priceDecimals;
  const sizeScale = 10 ** h.sizeDecimals;
  const stale = h.flags & wire.WireFlag.STALE ? ' STALE' : '';
  if ('top' in r) {
    console.log(`${h.symbol} top bid ${level(r.top.bid, 0, priceScale, sizeScale)} ask ${level(r.top.ask, 0, priceScale, sizeScale)} (message ${h.msgIndex})${stale}`);
  } else if ('book' in r) {
    console.log(`${h.symbol} book ${r.book.bids.count}x${r.book.asks.count} levels, best bid ${level(r.book.bids, 0, priceScale, sizeScale)} (message ${h.msgIndex})${stale}`);
  } else if ('trade' in r) {
    // A trade's price is on the event ring's scale, 10^-9 of the currency unit, whatever priceDecimals says.
    const px = Number.isNaN(r.trade.price) ? 'no price' : String(r.trade.price / abi.EVENT_PRICE_SCALE);
    console.log(`${h.symbol} trade ${r.trade.size / sizeScale} @ ${px} (message ${h.msgIndex})`);
  } else {
    console.log(`${h.symbol} status ${String.fromCharCode(r.status.action)} (message ${h.msgIndex})`);
  }
}
