// The ITCH engine's JavaScript face: a file's framed messages (2-byte big-endian length, then the
// message) decoded, applied to the books (itch_book.h), committed to their slots and appended to
// the event ring, many messages per call, so a whole market crosses into the addon once per batch
// instead of once per book. The rules are the TypeScript engine's (feed/itch/), which stays the
// reference and the path for everything this engine hands back.
//
// The surface is numeric: itchCreate binds the venue's typed arrays once (slot by locate, the
// publisher's per-slot flags, its book indexes and upstream marks, the counters, an in/out
// array) and returns a handle; itchRun(handle, commitHandle, bytes, ring, registry) takes its
// positions from the in/out array and returns why it stopped. It stops, and JavaScript takes over,
// before a stock directory (naming an instrument asks the publisher), before a frame the file
// framing refuses (JavaScript raises the error that names it), after a message whose commits
// readers sleep on (JavaScript wakes them), and when the heartbeat is due.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <memory>

#include "itch_book.h"
#include "itch_events.h"
#include "mdfan_seqlock.h"
#include "state.h"
#include "util.h"

namespace mdfan {

struct ItchEngine {
  itch::Books books;
  uint32_t levels = 0;
  int32_t* slot_by_locate = nullptr;  // 65536
  uint32_t* flags = nullptr;          // per slot: the publisher's MDFAN_SLOT_* flags
  double* book_index = nullptr;       // per slot: the last book's input message
  uint32_t* upstream = nullptr;       // per slot: the venue's own doubt (ITCH: none)
  uint32_t max_slots = 0;
  double* counters = nullptr;
  double* io = nullptr;
  uint32_t ticks = 0;
  std::vector<mdfan_level_t> staged;  // bids then asks, `levels` each
  // Per slot: the update_count this engine's last commit left (a slot still showing it holds that book).
  std::vector<uint64_t> last_update;
  napi_ref refs[6] = {};
};

namespace {

using itch::Append;
using itch::Be16;
using itch::Be32;
using itch::Be48;
using itch::Be64;
using itch::Ev;
using itch::EventsOf;
using itch::kBuy;

// The in/out array's entries (feed/itch/native-venue.ts holds the same table).
enum Io {
  kIoPos = 0,         // in/out: byte offset of the next frame in `bytes`
  kIoEnd = 1,         // in: bytes end here
  kIoMsgIndex = 2,    // in/out: the next message's index
  kIoMaxMessages = 3, // in: at most this many messages this call
  kIoBeatDueNs = 4,   // in: stop after the message at which CLOCK_MONOTONIC reaches this
  kIoRingHead = 5,    // in/out: ring sequence of the newest record
  kIoPublishes = 6,   // out: commits made this call
  kIoNowNs = 7,       // out: the last clock read (0: none this call)
  kIoDirectoryDone = 8,  // in: the next message is the stock directory the engine stopped before, now named: step over it
  kIoCount = 9,
};

// Why itchRun returned.
enum Stop {
  kStopEnd = 0,        // no whole frame left before `end`
  kStopMax = 1,        // maxMessages processed
  kStopDirectory = 2,  // before a stock directory message
  kStopFrame = 3,      // before a frame the file framing refuses (zero length, a known type's wrong length)
  kStopWake = 4,       // after a message whose commits readers sleep on
  kStopBeat = 5,       // after the message at which the heartbeat fell due
  kStopClosed = 6,     // the writer's commit handle is not bound (closed)
};

// The counters array: the TypeScript engine's fields, then messages per type byte.
enum Counter {
  kCMessages = 0,
  kCUnknownTypes = 1,
  kCBadLengths = 2,
  kCMalformed = 3,  // JavaScript's: directory symbols it refused
  kCUnknownOrderRefs = 4,
  kCDuplicateOrderRefs = 5,
  kCOverExecutions = 6,
  kCUnannounced = 7,
  kCTypeCounts = 8,  // 256 entries
  kCCount = 8 + 256,
};

constexpr int32_t kUnasked = -2;      // slotByLocate: no directory named the locate
constexpr int32_t kNotPublished = -1;  // slotByLocate: named, but not among the published symbols

// ITCH 5.0 fixed lengths by type byte (0: unknown), as feed/itch/layout.ts.
struct Lengths {
  uint8_t of[256] = {};
  Lengths() {
    const char* t = "SRHYLVWKJhAFECXDUPQBINO";
    const uint8_t n[] = {12, 39, 25, 20, 26, 35, 12, 28, 35, 21, 36, 40, 31, 36, 23, 19, 35, 44, 40, 19, 50, 20, 48};
    for (int i = 0; t[i]; i++) of[static_cast<uint8_t>(t[i])] = n[i];
  }
};
const Lengths kLengths;

// How many records ahead of the head the ring's lines are asked for.
constexpr uint64_t kRingAhead = 8;
// How many messages ahead the order rows, slots and top lines they touch are asked for.
constexpr uint32_t kLookahead = 4;

// Asks for what the message at `q` (at least 19 bytes) will touch: its order's row, its slot's
// header and its top line.
inline void Prefetch(ItchEngine* e, const BoundWriter& w, const uint8_t* q) {
  uint8_t t = q[0];
  if (t == 'A' || t == 'F' || t == 'E' || t == 'C' || t == 'X' || t == 'D' || t == 'U') e->books.orders.Prefetch(Be64(q + 11));
  int32_t slot = e->slot_by_locate[Be16(q + 1)];
  if (slot >= 0 && static_cast<uint32_t>(slot) < w.max_instruments) {
    itch::PrefetchWrite(w.slots + static_cast<uint64_t>(slot) * w.stride);
    if (w.tops) itch::PrefetchWrite(w.tops + static_cast<uint64_t>(slot) * MDFAN_TOP_STRIDE_BYTES);
  }
}

ItchEngine* EngineOf(AddonState* s, double h) {
  if (!(h >= 0) || h >= static_cast<double>(s->itch.size())) return nullptr;
  return s->itch[static_cast<size_t>(h)];
}

bool TypedArrayOf(Napi::Value v, napi_typedarray_type want, size_t min_len, void** data, size_t* len) {
  if (!v.IsTypedArray()) return false;
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != want || ta.ElementLength() < min_len) return false;
  *len = ta.ElementLength();
  *data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return true;
}

// itchCreate(levels, slotByLocate Int32Array(65536), flags Uint32Array, bookIndex Float64Array,
// upstream Uint32Array, counters Float64Array(kCCount), io Float64Array(kIoCount)) -> handle
Napi::Value ItchCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* state = static_cast<AddonState*>(info.Data());
  uint64_t levels;
  if (!ArgUint(info, 0, "levels", &levels)) return env.Undefined();
  if (levels < 1 || levels > MDFAN_MAX_LEVELS) {
    ThrowType(env, "itchCreate: levels outside 1..MDFAN_MAX_LEVELS");
    return env.Undefined();
  }
  std::unique_ptr<ItchEngine> e(new ItchEngine());
  e->levels = static_cast<uint32_t>(levels);
  e->staged.assign(2 * levels, mdfan_level_t{0, 0, 0, 0});
  void* d;
  size_t n, slots;
  bool ok = TypedArrayOf(info[1], napi_int32_array, 65536, &d, &n) && (e->slot_by_locate = static_cast<int32_t*>(d));
  ok = ok && TypedArrayOf(info[2], napi_uint32_array, 1, &d, &slots) && (e->flags = static_cast<uint32_t*>(d));
  ok = ok && TypedArrayOf(info[3], napi_float64_array, slots, &d, &n) && (e->book_index = static_cast<double*>(d));
  ok = ok && TypedArrayOf(info[4], napi_uint32_array, slots, &d, &n) && (e->upstream = static_cast<uint32_t*>(d));
  ok = ok && TypedArrayOf(info[5], napi_float64_array, kCCount, &d, &n) && (e->counters = static_cast<double*>(d));
  ok = ok && TypedArrayOf(info[6], napi_float64_array, kIoCount, &d, &n) && (e->io = static_cast<double*>(d));
  if (!ok) {
    ThrowType(env, "itchCreate: slotByLocate Int32Array(65536), flags Uint32Array, bookIndex Float64Array, upstream Uint32Array (one per slot), counters and io Float64Arrays");
    return env.Undefined();
  }
  e->max_slots = static_cast<uint32_t>(slots);
  e->last_update.assign(slots, UINT64_MAX);  // no commit of ours yet: the first is whole
  // The arrays stay alive while the engine lives (freed by itchFree or the environment's end).
  for (int i = 0; i < 6; i++) napi_create_reference(env, info[i + 1], 1, &e->refs[i]);
  size_t h = 0;
  while (h < state->itch.size() && state->itch[h]) h++;
  if (h == state->itch.size()) state->itch.emplace_back();
  state->itch[h] = e.release();
  return Napi::Number::New(env, static_cast<double>(h));
}

// itchFree(handle): the engine and its books go (idempotent).
Napi::Value ItchFree(const Napi::CallbackInfo& info) {
  auto* state = static_cast<AddonState*>(info.Data());
  uint64_t h;
  if (!ArgUint(info, 0, "handle", &h)) return info.Env().Undefined();
  if (h < state->itch.size() && state->itch[h]) FreeItchEngine(info.Env(), state->itch[h]);
  return info.Env().Undefined();
}

// itchRun(handle, commitHandle, bytes Uint8Array, ring ArrayBuffer | null, registry ArrayBuffer | null) -> Stop
Napi::Value ItchRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* state = static_cast<AddonState*>(info.Data());
  ItchEngine* e = info.Length() >= 5 && info[0].IsNumber() ? EngineOf(state, info[0].As<Napi::Number>().DoubleValue()) : nullptr;
  if (e == nullptr || !info[1].IsNumber() || !info[2].IsTypedArray()) {
    ThrowType(env, "itchRun(handle, commitHandle, bytes, ring | null, registry | null)");
    return env.Undefined();
  }
  double ch = info[1].As<Napi::Number>().DoubleValue();
  if (!(ch >= 0) || ch >= static_cast<double>(state->bound.size()) || !state->bound[static_cast<size_t>(ch)].used)
    return Napi::Number::New(env, kStopClosed);
  BoundWriter& w = state->bound[static_cast<size_t>(ch)];
  void* bd;
  size_t blen;
  if (!TypedArrayOf(info[2], napi_uint8_array, 0, &bd, &blen)) {
    ThrowType(env, "itchRun: bytes must be a Uint8Array");
    return env.Undefined();
  }
  const uint8_t* buf = static_cast<const uint8_t*>(bd);
  uint8_t* ring = nullptr;
  uint64_t ring_mask = 0;
  if (info[3].IsArrayBuffer()) {
    Napi::ArrayBuffer ab = info[3].As<Napi::ArrayBuffer>();
    ring = static_cast<uint8_t*>(ab.Data());
    if (ring == nullptr || ab.ByteLength() < MDFAN_EVENTS_HEADER_BYTES) {
      ThrowType(env, "itchRun: the event ring is closed");
      return env.Undefined();
    }
    uint32_t cap = reinterpret_cast<const mdfan_events_header_t*>(ring)->capacity;
    if (ab.ByteLength() < MDFAN_EVENTS_HEADER_BYTES || cap == 0 || (cap & (cap - 1)) != 0 ||
        ab.ByteLength() < MDFAN_EVENTS_HEADER_BYTES + static_cast<uint64_t>(cap) * MDFAN_EVENT_BYTES) {
      ThrowType(env, "itchRun: ring is not an event ring mapping");
      return env.Undefined();
    }
    ring_mask = cap - 1;
  }
  const uint32_t* sleepers = nullptr;
  if (info[4].IsArrayBuffer()) {
    Napi::ArrayBuffer ab = info[4].As<Napi::ArrayBuffer>();
    if (ab.Data() == nullptr || ab.ByteLength() < sizeof(mdfan_registry_header_t)) {
      ThrowType(env, "itchRun: registry is not a registry mapping");
      return env.Undefined();
    }
    sleepers = reinterpret_cast<const uint32_t*>(static_cast<uint8_t*>(ab.Data()) + offsetof(mdfan_registry_header_t, sleepers));
  }

  double* io = e->io;
  double* c = e->counters;
  uint64_t pos = static_cast<uint64_t>(io[kIoPos]);
  uint64_t end = io[kIoEnd] < static_cast<double>(blen) ? static_cast<uint64_t>(io[kIoEnd]) : blen;
  uint64_t msg = static_cast<uint64_t>(io[kIoMsgIndex]);
  uint64_t max = static_cast<uint64_t>(io[kIoMaxMessages]);
  uint64_t beat_due = static_cast<uint64_t>(io[kIoBeatDueNs]);
  uint64_t head = static_cast<uint64_t>(io[kIoRingHead]);
  bool directory_done = io[kIoDirectoryDone] != 0;
  uint32_t levels = e->levels;
  uint32_t fill = levels < w.levels ? levels : w.levels;
  uint32_t slot_levels = w.levels;
  mdfan_level_t* bids = e->staged.data();
  mdfan_level_t* asks = bids + levels;
  auto* stage = reinterpret_cast<mdfan_commit_stage_t*>(w.stage);
  uint64_t publishes = 0, now = 0, done = 0;
  uint64_t ahead = pos;  // the frame after the last one prefetched for
  uint32_t lead = 0;     // messages prefetched for beyond the current one
  int stop = kStopEnd;
  Ev ev[2];

  for (;;) {
    if (done >= max) { stop = kStopMax; break; }
    if (pos + 2 > end) break;
    uint32_t len = Be16(buf + pos);
    if (len == 0) { stop = kStopFrame; break; }
    if (pos + 2 + len > end) break;
    const uint8_t* p = buf + pos + 2;
    uint8_t t = p[0];
    uint8_t want = kLengths.of[t];
    if (want != 0 && want != len) { stop = kStopFrame; break; }
    if (t == 'R' && directory_done) {  // counted when the engine stopped before it
      directory_done = false;
      pos += 2 + len;
      msg++;
      done++;
      continue;
    }
    c[kCMessages]++;
    c[kCTypeCounts + t]++;
    if (t == 'R') { stop = kStopDirectory; break; }  // counted; JavaScript names the instrument
    pos += 2 + len;
    uint64_t index = msg++;
    done++;
    // Later messages' cache misses start now, under this one's work: their orders' rows, their
    // slots' headers and top lines, the ring's lines a few records ahead (a whole market's tables
    // are far larger than the caches, and each of these is a miss otherwise).
    if (lead > 0) lead--;
    if (ahead < pos) ahead = pos, lead = 0;
    while (lead < kLookahead && ahead + 2 <= end) {
      uint32_t alen = Be16(buf + ahead);
      if (alen == 0 || ahead + 2 + alen > end) break;
      if (alen >= 19) Prefetch(e, w, buf + ahead + 2);
      ahead += 2 + alen;
      lead++;
    }
    if (ring) itch::PrefetchWrite(ring + MDFAN_EVENTS_HEADER_BYTES + ((head + kRingAhead) & ring_mask) * MDFAN_EVENT_BYTES);
    bool published = false;
    if (want == 0) {
      c[kCUnknownTypes]++;
    } else {
      uint16_t locate = Be16(p + 1);
      uint64_t ts = Be48(p + 5);
      // Events are taken before the books change: an executed or deleted order still gives its
      // price and side. Only instruments that have a slot get them (system events: none needed).
      uint32_t nev = 0, ev_slot = MDFAN_EVENT_NO_INSTRUMENT;
      if (ring) {
        nev = EventsOf(e->books, p, t, ev);
        if (nev > 0 && ev[0].kind != MDFAN_EVENT_KIND_SYSTEM) {
          int32_t s = e->slot_by_locate[locate];
          if (s < 0) nev = 0;  // not among the published symbols, or never announced
          else ev_slot = static_cast<uint32_t>(s);
        }
      }
      itch::Books& b = e->books;
      b.touched_rank = itch::kNoRank;
      int32_t changed = -1;
      switch (t) {
        case 'A':
        case 'F':
          changed = b.Add(Be64(p + 11), locate, p[19] != kBuy, Be32(p + 32), Be32(p + 20));
          break;
        case 'E':
        case 'C':  // the execution price does not move the resting order
        case 'X':
          changed = b.Reduce(Be64(p + 11), Be32(p + 19));
          break;
        case 'D':
          changed = b.Reduce(Be64(p + 11), -1);
          break;
        case 'U':
          changed = b.Replace(Be64(p + 11), Be64(p + 19), Be32(p + 27), Be32(p + 31));
          break;
        default:
          break;
      }
      if (changed >= 0 && b.touched_rank < static_cast<int32_t>(levels)) {
        int32_t slot = e->slot_by_locate[changed];
        if (slot == kUnasked) {
          c[kCUnannounced]++;
        } else if (slot >= 0 && static_cast<uint32_t>(slot) < w.max_instruments && static_cast<uint32_t>(slot) < e->max_slots) {
          itch::Book& book = b.At(static_cast<uint16_t>(changed));
          uint8_t* slot_ptr = w.slots + static_cast<uint64_t>(slot) * w.stride;
          mdfan_top_t* top = w.tops ? reinterpret_cast<mdfan_top_t*>(w.tops + static_cast<uint64_t>(slot) * MDFAN_TOP_STRIDE_BYTES) : nullptr;
          // The slot still holds this engine's last book if nobody committed to it since (its
          // update_count is the one this engine left; a plain read: our own thread's stores).
          // Then only the touched side from the touched rank on is written: the levels before it
          // and the other side are already there, as a whole commit would write them.
          uint32_t rank = static_cast<uint32_t>(b.touched_rank);
          bool partial = reinterpret_cast<const mdfan_slot_header_t*>(slot_ptr)->update_count == e->last_update[slot];
          uint32_t bid_from = !partial ? 0 : b.touched_ask ? slot_levels : rank;
          uint32_t ask_from = !partial ? 0 : b.touched_ask ? rank : slot_levels;
          // Level 0 of both sides always: the top line is compared with it.
          uint32_t bc = book.bids.FillTop(bids, fill, bid_from);
          if (bid_from > 0) book.bids.FillTop(bids, 1);
          uint32_t ac = book.asks.FillTop(asks, fill, ask_from);
          if (ask_from > 0) book.asks.FillTop(asks, 1);
          // The publish time: when the writer begins this message's commit (as commitBook).
          now = mdfan_monotonic_ns();
          stage->top_commits += static_cast<uint32_t>(mdfan_commit_book_from(slot_ptr, top, slot_levels, bids, bc, asks, ac, bid_from, ask_from,
                                                                             index, ts, now, e->flags[slot], static_cast<uint32_t>(slot), 0));
          e->last_update[slot] = reinterpret_cast<const mdfan_slot_header_t*>(slot_ptr)->update_count;
          e->book_index[slot] = static_cast<double>(index);
          e->upstream[slot] = 0;
          publishes++;
          published = true;
        }
      }
      if (nev > 0) {
        if (!published) now = mdfan_monotonic_ns();  // one clock read per input message
        // A book a gap made doubtful: its events say so too.
        uint8_t bad = ev_slot != MDFAN_EVENT_NO_INSTRUMENT && ev_slot < e->max_slots && (e->flags[ev_slot] & MDFAN_SLOT_STALE) ? MDFAN_EVENT_FLAG_BAD_BOOK : 0;
        for (uint32_t k = 0; k < nev; k++) {
          ev[k].flags |= static_cast<uint8_t>((k == nev - 1 ? MDFAN_EVENT_FLAG_LAST : 0) | bad);
          Append(ring, ring_mask, ++head, ev[k], ev_slot, index, ts, now);
        }
        published = true;
      }
    }
    if (published) {
      if (sleepers) {
        // [F] order: seq_cst fence; pairs with: the reader's seq_cst increment of the sleeper count
        // (mdfan_abi.h, the registry). The commits' stores before the loads of the counts.
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        // [L] order: relaxed loads after F; a count seen non-zero hands the wake to JavaScript.
        if (__atomic_load_n(sleepers, __ATOMIC_RELAXED) != 0 || __atomic_load_n(sleepers + 1, __ATOMIC_RELAXED) != 0) {
          stop = kStopWake;
          break;
        }
      }
      if (now >= beat_due) { stop = kStopBeat; break; }
    } else if ((++e->ticks & 255) == 0) {
      now = mdfan_monotonic_ns();
      if (now >= beat_due) { stop = kStopBeat; break; }
    }
  }
  c[kCUnknownOrderRefs] = e->books.counters.unknown_order_refs;
  c[kCDuplicateOrderRefs] = e->books.counters.duplicate_order_refs;
  c[kCOverExecutions] = e->books.counters.over_executions;
  io[kIoPos] = static_cast<double>(pos);
  io[kIoMsgIndex] = static_cast<double>(msg);
  io[kIoRingHead] = static_cast<double>(head);
  io[kIoPublishes] = static_cast<double>(publishes);
  io[kIoNowNs] = static_cast<double>(now);
  io[kIoDirectoryDone] = 0;
  return Napi::Number::New(env, stop);
}

}  // namespace

void FreeItchEngine(napi_env env, ItchEngine*& engine) {
  for (napi_ref& r : engine->refs)
    if (r) napi_delete_reference(env, r), r = nullptr;
  delete engine;
  engine = nullptr;
}

void InitItchEngine(Napi::Env env, Napi::Object exports, AddonState* state) {
  exports.Set("itchCreate", Napi::Function::New(env, ItchCreate, "itchCreate", state));
  exports.Set("itchFree", Napi::Function::New(env, ItchFree, "itchFree", state));
  exports.Set("itchRun", Napi::Function::New(env, ItchRun, "itchRun", state));
}

}  // namespace mdfan
