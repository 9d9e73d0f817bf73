// The ITCH engine's events (itch_engine.cc): what a message makes for the event ring, read off the
// message and the books before the books change, with the rules of feed/itch/events.ts, and the
// append of one record by the ring's protocol (mdfan_abi.h). Big-endian field readers beside them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "itch_book.h"
#include "mdfan_abi.h"

namespace mdfan {
namespace itch {

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline uint64_t Be48(const uint8_t* p) { return static_cast<uint64_t>(Be16(p)) << 32 | Be32(p + 2); }
inline uint64_t Be64(const uint8_t* p) { return static_cast<uint64_t>(Be32(p)) << 32 | Be32(p + 4); }

constexpr uint8_t kBuy = 'B', kSell = 'S';
// ITCH prices are 1/10000; the ring's 1/MDFAN_EVENT_PRICE_SCALE: exact, both powers of ten.
constexpr int64_t kPriceToRing = static_cast<int64_t>(MDFAN_EVENT_PRICE_SCALE / 10000u);
constexpr int64_t kNoPrice = static_cast<int64_t>(MDFAN_EVENT_PRICE_NONE);

// One event as the ring's record body (seq and publish time are the append's).
struct Ev {
  uint8_t kind, action, side, flags;
  int64_t price;  // ITCH units, or kNoPrice
  uint64_t order_ref, size;
};

// The events of message `p` (type t), filled before the books change, as feed/itch/events.ts.
inline uint32_t EventsOf(Books& books, const uint8_t* p, uint8_t t, Ev* e) {
  e[0] = Ev{0, 0, 0, 0, kNoPrice, 0, 0};
  switch (t) {
    case 'E':
    case 'C': {
      uint64_t ref = Be64(p + 11);
      const itch::Order* o = books.orders.Find(ref);
      e[0].kind = MDFAN_EVENT_KIND_TRADE;
      e[0].action = t;
      e[0].order_ref = ref;
      e[0].size = Be32(p + 19);
      if (o) e[0].side = o->ask ? kSell : kBuy;  // the resting order's side
      if (t == 'C') {
        e[0].price = Be32(p + 32);
        if (p[31] == 'N') e[0].flags = MDFAN_EVENT_FLAG_NOT_PRINTABLE;
      } else if (o) {
        e[0].price = o->price;
      }
      return 1;
    }
    case 'P':
      e[0].kind = MDFAN_EVENT_KIND_TRADE;
      e[0].action = t;
      e[0].order_ref = Be64(p + 11);
      e[0].side = p[19];
      e[0].price = Be32(p + 32);
      e[0].size = Be32(p + 20);
      return 1;
    case 'Q':
      e[0].kind = MDFAN_EVENT_KIND_TRADE;
      e[0].action = t;
      e[0].price = Be32(p + 27);
      e[0].size = Be64(p + 11);
      e[0].side = p[39];  // a cross has no side: its type goes there
      return 1;
    case 'H':
      e[0].kind = MDFAN_EVENT_KIND_STATUS;
      e[0].action = p[19];
      return 1;
    case 'S':
      e[0].kind = MDFAN_EVENT_KIND_SYSTEM;
      e[0].action = p[11];
      return 1;
    case 'A':
    case 'F':
      e[0].kind = MDFAN_EVENT_KIND_ORDER;
      e[0].action = 'A';
      e[0].order_ref = Be64(p + 11);
      e[0].side = p[19];
      e[0].price = Be32(p + 32);
      e[0].size = Be32(p + 20);
      return 1;
    case 'X':
    case 'D': {
      uint64_t ref = Be64(p + 11);
      const itch::Order* o = books.orders.Find(ref);
      e[0].kind = MDFAN_EVENT_KIND_ORDER;
      e[0].action = t;
      e[0].order_ref = ref;
      if (o) {
        e[0].side = o->ask ? kSell : kBuy;
        e[0].price = o->price;
        e[0].size = t == 'X' ? Be32(p + 19) : o->shares;
      } else {
        e[0].size = t == 'X' ? Be32(p + 19) : 0;
      }
      return 1;
    }
    case 'U': {
      uint64_t ref = Be64(p + 11);
      const itch::Order* o = books.orders.Find(ref);
      uint8_t side = o ? (o->ask ? kSell : kBuy) : 0;
      e[0].kind = MDFAN_EVENT_KIND_ORDER;
      e[0].action = 'U';
      e[0].order_ref = ref;
      e[0].side = side;
      e[0].price = o ? static_cast<int64_t>(o->price) : kNoPrice;
      e[0].size = o ? o->shares : 0;
      e[1] = Ev{MDFAN_EVENT_KIND_ORDER, 'N', side, 0, static_cast<int64_t>(Be32(p + 31)), Be64(p + 19), Be32(p + 27)};
      return 2;
    }
    default:
      return 0;
  }
}

// Appends record r = head + 1. The protocol is the ring's (mdfan_abi.h) as the TypeScript writer
// keeps it (native/segment/events.ts): seq's high word is made invalid first, the body follows,
// then the whole seq, then the head.
inline void Append(uint8_t* ring, uint64_t mask, uint64_t r, const Ev& ev, uint32_t instrument, uint64_t msg_index,
                   uint64_t exchange_ts_ns, uint64_t publish_ts_ns) {
  auto* rec = reinterpret_cast<mdfan_event_t*>(ring + MDFAN_EVENTS_HEADER_BYTES + ((r - 1) & mask) * MDFAN_EVENT_BYTES);
  auto* seq_hi = reinterpret_cast<uint32_t*>(&rec->seq) + 1;
  // [E1] order: relaxed store, then a release fence; pairs with: the reader's second seq load.
  // The record's old sequence is invalid before any body store: a reader copying the old record
  // across this rewrite sees the high word change.
  __atomic_store_n(seq_hi, 0xffffffffu, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  mdfan_event_t body;
  body.seq = 0;
  body.kind = ev.kind;
  body.action = ev.action;
  body.side = ev.side;
  body.flags = ev.flags;
  body.instrument_index = instrument;
  body.msg_index = msg_index;
  body.exchange_ts_ns = exchange_ts_ns;
  body.publish_ts_ns = publish_ts_ns;
  body.price = ev.price == kNoPrice ? kNoPrice : ev.price * kPriceToRing;
  body.order_ref = ev.order_ref;
  body.size = ev.size;
  memcpy(reinterpret_cast<uint8_t*>(rec) + sizeof rec->seq, reinterpret_cast<const uint8_t*>(&body) + sizeof body.seq,
         sizeof body - sizeof body.seq);
  // [E3] order: release store; pairs with: the reader's first seq load (acquire). The body is
  // visible before the sequence that vouches for it. Not seq_cst: no load of ours must wait for it.
  __atomic_store_n(&rec->seq, r, __ATOMIC_RELEASE);
  auto* head = reinterpret_cast<uint64_t*>(ring + offsetof(mdfan_events_header_t, head));
  // [E4] order: release store; pairs with: the reader's head load (acquire). After E3: a reader
  // that sees the head finds the record whole.
  __atomic_store_n(head, r, __ATOMIC_RELEASE);
}

}  // namespace itch
}  // namespace mdfan
