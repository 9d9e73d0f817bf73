/** A test strategy that takes trades: counts them and their shares, and any loss. */
import type { EventRecord } from '../../native/segment/index.js';
import type { Strategy } from '../../workers/pool/strategy.js';

let trades = 0;
let shares = 0;
let events = 0;
let lost = 0;
let books = 0;
const strategy: Strategy = {
  onBook() {
    books++;
  },
  onTrade(e: EventRecord) {
    trades++;
    shares += e.size;
  },
  onEvent() {
    events++;
  },
  onEventsLost(n: number) {
    lost += n;
  },
  onClose() {
    return { trades, shares, events, lost, books };
  },
};
export default strategy;
