// `mdfan bench reaction`'s clock: a strategy's reaction, timed in C on both ends, so no clock read
// in the strategy (JavaScript or C) is part of the figure. One thread, the caller's, is both the
// writer and the reply spinner (on a 2-core machine only two threads should spin: this one and
// the strategy): per round it commits a 10-level book into slot 0 of a real segment with
// mdfan_commit_book (the one commit every writer uses; its publish time is t0), spins on the
// reply line until the strategy's order for that book arrives (t1), records t1 - t0, then waits a
// randomised pace interval before the next book. Every wait is bounded: a strategy that never
// replies ends the run with the round it stalled in, never a hang.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench.h"
#include "mdfan_seqlock.h"
#include "reaction_reply.h"
#include "util.h"

namespace mdfan {
namespace {

constexpr uint32_t kLevels = 10;
// The clock is read once per this many spins on the reply line (the round's timeout), a power of two.
constexpr uint32_t kSpinsPerClock = 256;

// The best bid of round k's book: a new top line every round (mdfan_commit_book skips an unchanged
// top), always below level 1's price + 100 and the best ask.
inline int64_t BidOf(uint64_t k) { return 1000000 - 100 + static_cast<int64_t>(k % 64); }

// xorshift64: the pace's jitter, so rounds do not beat against a periodic disturbance.
inline uint64_t Next(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

bool Opt(const Napi::Object& o, const char* key, uint64_t* out) {
  Napi::Value v = o.Get(key);
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) {
    ThrowType(o.Env(), std::string("reactionRun: ") + key + " must be a non-negative integer");
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// reactionRun(map, tops, reply, { slotsOffset, slotStride, levels, maxRounds, warmupRounds,
//   durationNs (after the warm-up), paceMinNs, paceMaxNs, roundTimeoutNs, seed })
// -> { reactionNs: Float64Array (sorted; rounds after the warm-up), rounds, mismatches, timedOutRound (0: none) }
// map: the segment's mapping (slot 0 is committed); tops: its top lines' mapping; reply: the reply
// object's mapping (mdfan_reaction_reply_t at offset 0).
Napi::Value ReactionRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *map, *tops, *reply_base;
  size_t map_len, tops_len, reply_len;
  if (!ArgBuffer(info, 0, &map, &map_len) || !ArgBuffer(info, 1, &tops, &tops_len) || !ArgBuffer(info, 2, &reply_base, &reply_len))
    return env.Undefined();
  if (info.Length() < 4 || !info[3].IsObject()) {
    ThrowType(env, "reactionRun: options must be an object");
    return env.Undefined();
  }
  Napi::Object o = info[3].As<Napi::Object>();
  uint64_t slots_off, stride, levels, max_rounds, warmup, duration_ns, pace_min, pace_max, round_timeout, seed;
  if (!Opt(o, "slotsOffset", &slots_off) || !Opt(o, "slotStride", &stride) || !Opt(o, "levels", &levels) || !Opt(o, "maxRounds", &max_rounds) ||
      !Opt(o, "warmupRounds", &warmup) || !Opt(o, "durationNs", &duration_ns) || !Opt(o, "paceMinNs", &pace_min) || !Opt(o, "paceMaxNs", &pace_max) ||
      !Opt(o, "roundTimeoutNs", &round_timeout) || !Opt(o, "seed", &seed))
    return env.Undefined();
  if (levels != kLevels || stride < MDFAN_SLOT_PAYLOAD_BYTES(levels) || slots_off % 8 != 0 || slots_off + stride > map_len ||
      map_len < sizeof(mdfan_header_t)) {
    ThrowType(env, "reactionRun: the layout does not fit the mapping (10 levels, slot 0 inside it)");
    return env.Undefined();
  }
  if (tops_len < MDFAN_TOPS_BYTES(1)) {
    ThrowType(env, "reactionRun: tops must be a top lines' mapping");
    return env.Undefined();
  }
  if (reply_len < MDFAN_REACTION_REPLY_BYTES || reinterpret_cast<uintptr_t>(reply_base) % MDFAN_REACTION_REPLY_BYTES != 0) {
    ThrowType(env, "reactionRun: reply must be a 64-aligned mapping of at least one line");
    return env.Undefined();
  }
  if (pace_max < pace_min || round_timeout == 0) {
    ThrowType(env, "reactionRun: paceMaxNs must be >= paceMinNs and roundTimeoutNs > 0");
    return env.Undefined();
  }

  uint8_t* slot = map + slots_off;
  auto* top = reinterpret_cast<mdfan_top_t*>(tops + MDFAN_TOPS_HEADER_BYTES);
  auto* reply = reinterpret_cast<mdfan_reaction_reply_t*>(reply_base);
  auto* header = reinterpret_cast<mdfan_header_t*>(map);
  mdfan_level_t bids[kLevels], asks[kLevels];
  for (uint32_t l = 0; l < kLevels; l++) {
    bids[l] = {1000000 - 100 * static_cast<int64_t>(l + 1), 100u * (l + 1), l + 1, 0};
    asks[l] = {1000000 + 100 * static_cast<int64_t>(l + 1), 100u * (l + 1), l + 1, 0};
  }
  std::vector<double> samples;
  samples.reserve(max_rounds);
  uint64_t rng = seed | 1u, mismatches = 0, timed_out = 0, k = 0;
  // The measured time starts after the warm-up, however long that took (a loaded machine).
  uint64_t start = mdfan_monotonic_ns();
  // [RH] (below): the run starts with a fresh beat, however late the event loop's last one was.
  __atomic_store_n(&header->heartbeat_ns, start, __ATOMIC_RELAXED);
  // [RR0] order: acquire load; pairs with: the strategy's seq store (release in C, seq_cst in JavaScript).
  // The sequence before the first book: only a change after a commit is a reply.
  uint32_t last = __atomic_load_n(&reply->seq, __ATOMIC_ACQUIRE);
  while (k < max_rounds && (k < warmup || mdfan_monotonic_ns() - start < duration_ns)) {
    k++;
    bids[0].price = BidOf(k);
    const uint64_t t0 = mdfan_monotonic_ns();  // the commit's publish_ts_ns: the reaction's start
    mdfan_commit_book(slot, top, kLevels, bids, kLevels, asks, kLevels, k, k, t0, 0, 0, 0);
    uint64_t t1 = 0;
    for (uint32_t spins = 1;; spins++) {
      // [RR1] order: acquire load; pairs with: the strategy's seq store (release in C, seq_cst in
      // JavaScript), made after the order's fields: once seq moved, the fields below are that order's.
      uint32_t s = __atomic_load_n(&reply->seq, __ATOMIC_ACQUIRE);
      if (s != last) {
        t1 = mdfan_monotonic_ns();
        last = s;
        break;
      }
      if (spins % kSpinsPerClock == 0) {
        const uint64_t now = mdfan_monotonic_ns();
        if (now - t0 > round_timeout) break;
        // [RH] (below): a strategy that takes its time must not see this writer dead meanwhile.
        __atomic_store_n(&header->heartbeat_ns, now, __ATOMIC_RELAXED);
      }
      CpuRelax();
    }
    if (t1 == 0) {
      timed_out = k;
      break;
    }
    // [RR2] order: relaxed loads; pairs with: none (ordered after RR1's acquire, which pairs with
    // the seq store the strategy made after these fields).
    uint64_t idx = __atomic_load_n(&reply->msg_index, __ATOMIC_RELAXED);
    int64_t bid = __atomic_load_n(&reply->bid_price, __ATOMIC_RELAXED);
    // An order for another book (or a price the book did not have) is no reaction to this one.
    if (k == warmup) start = t1;
    if (idx != k || bid != BidOf(k)) mismatches++;
    else if (k > warmup) samples.push_back(static_cast<double>(t1 - t0));
    // [RH] order: relaxed store; pairs with: the readers' heartbeat loads (liveness only: no data
    // is published through it). This thread is the segment's writer while the run lasts.
    __atomic_store_n(&header->heartbeat_ns, t1, __ATOMIC_RELAXED);
    const uint64_t until = t1 + pace_min + (pace_max > pace_min ? Next(&rng) % (pace_max - pace_min + 1) : 0);
    while (mdfan_monotonic_ns() < until) CpuRelax();
  }
  std::sort(samples.begin(), samples.end());
  Napi::Float64Array out = Napi::Float64Array::New(env, samples.size());
  std::copy(samples.begin(), samples.end(), out.Data());
  Napi::Object r = Napi::Object::New(env);
  r.Set("reactionNs", out);
  r.Set("rounds", Napi::Number::New(env, static_cast<double>(timed_out ? k - 1 : k)));
  r.Set("mismatches", Napi::Number::New(env, static_cast<double>(mismatches)));
  r.Set("timedOutRound", Napi::Number::New(env, static_cast<double>(timed_out)));
  return r;
}

}  // namespace

void InitReaction(Napi::Env env, Napi::Object exports) {
  exports.Set("reactionRun", Napi::Function::New(env, ReactionRun, "reactionRun"));
}

}  // namespace mdfan
