// Follows the best bid and ask of every instrument of a segment (or of the symbols given) and
// prints them in currency and instrument units as they change. Rides out the writer's death.
//   node top-of-book.mjs SEGMENT [SYMBOL ...]
import { BookReader } from 'mdfan';

const [segment = 'books', ...symbols] = process.argv.slice(2);
// Waits until the writer is READY; with symbols, reads only their slots.
const reader = await BookReader.attach(segment, { wait: 'block', ...(symbols.length > 0 ? { symbols } : {}) });

// A side with no size is empty: say so rather than print a price of 0.
const side = (qty, px) => (qty > 0 ? `${qty} @ ${px}` : 'none');

// tops: the one-line top of book (the fastest path) instead of whole books. The loop ends when
// the writer closes the session.
for await (const u of reader.updates({ tops: true })) {
  if (u.kind === 'top') {
    const { top, instrument } = u; // reused for the next update: copy what you keep
    // bidPx/askPx are currency units (585.33), bidQty/askQty the instrument's units (shares, BTC);
    // bidPrice/bidSize are the feed's raw integers.
    console.log(`${instrument.symbol} bid ${side(top.bidQty, top.bidPx)} ask ${side(top.askQty, top.askPx)}`);
  } else if (u.kind === 'writer-dead') {
    console.log('writer died: prices frozen until a new writer takes over');
  } else if (u.kind === 'new-writer') {
    console.log(`new writer (generation ${u.generation})`);
  }
}
reader.close();
