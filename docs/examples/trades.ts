// Follows the event stream beside the books and prints every trade in currency and instrument
// units, from the oldest event the ring still holds.
//   node trades.js SEGMENT
import { BookReader } from 'mdfan';

const [segment = 'books'] = process.argv.slice(2);
const reader = await BookReader.attach(segment, { wait: 'block' });

// books: false: the event ring and the writer's story only. kinds by name: 'trade', 'status',
// 'order', 'system'.
for await (const u of reader.updates({ books: false, events: { kinds: ['trade'] } })) {
  if (u.kind === 'event' && u.event.type === 'trade') {
    const e = u.event; // reused for the next update: copy what you keep (e.toObject() makes a plain object)
    const symbol = u.instrument?.symbol ?? '?';
    // px in currency units (585.4), qty in the instrument's units; price and size are the raw integers.
    console.log(`${symbol} trade ${e.qty} @ ${e.px}${e.sideName ? ` ${e.sideName}` : ''} (message ${e.msgIndex})`);
  } else if (u.kind === 'events-lost') {
    console.log(`fell behind: ${u.lost} events lost`); // exact; the loop goes on from the oldest still held
  } else if (u.kind === 'writer-dead') {
    console.log('writer died');
  }
}
reader.close();
