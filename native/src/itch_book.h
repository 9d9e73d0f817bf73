// The ITCH order books in C++: the addon's engine for replays at a whole market's rate. Its rules
// are the TypeScript engine's (feed/itch/books.ts, feed/itch/events.ts), which stays the
// reference: a test runs both message by message on every recorded day and on a generated whole
// market, books and events equal. No N-API here: itch_engine.cc is the JavaScript face.
//
// Layout for a whole market: one open-addressing table of live orders whose rows hold the order
// itself (reference, price, shares, locate, side: one 24-byte row, one cache miss per lookup),
// and per instrument two price ladders kept sorted with the best level last, keys and sizes in
// separate arrays so the binary search touches only keys.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <cstring>
#include <memory>
#include <vector>

namespace mdfan {
namespace itch {

constexpr int32_t kNoRank = 0x7fffffff;

// One side of a book: levels sorted by key ascending, best last (bids: key = price; asks: key =
// -price), so one order serves both sides and changes near the top shift few elements.
class Ladder {
 public:
  explicit Ladder(bool ask) : ask_(ask) {}
  uint32_t n() const { return static_cast<uint32_t>(keys_.size()); }

  // Adds one order of `shares` at `price`; returns the level's rank from the best (0 = best).
  int32_t Add(int64_t price, int64_t shares) {
    int64_t key = ask_ ? -price : price;
    int64_t i = Find(key);
    if (i < 0) {
      i = -i - 1;
      keys_.insert(keys_.begin() + i, key);
      sizes_.insert(sizes_.begin() + i, 0);
      orders_.insert(orders_.begin() + i, 0);
    }
    sizes_[i] += shares;
    orders_[i]++;
    return static_cast<int32_t>(n() - 1 - i);
  }

  // Takes `shares` off the level at `price`, and one order if `order_gone`; the level goes when it
  // has no order left. Returns its rank before the change, or -1 if there is no such level.
  int32_t Reduce(int64_t price, int64_t shares, bool order_gone) {
    int64_t i = Find(ask_ ? -price : price);
    if (i < 0) return -1;
    int32_t rank = static_cast<int32_t>(n() - 1 - i);
    sizes_[i] -= shares;
    if (order_gone) orders_[i]--;
    if (orders_[i] == 0) {
      keys_.erase(keys_.begin() + i);
      sizes_.erase(sizes_.begin() + i);
      orders_.erase(orders_.begin() + i);
    }
    return rank;
  }

  // The best `levels` as the slot's levels (price, size, orders), best first, from rank `from` on
  // (the ranks before it left as they are); returns how many the side shows.
  template <typename Level>
  uint32_t FillTop(Level* dst, uint32_t levels, uint32_t from = 0) const {
    uint32_t count = n() < levels ? n() : levels;
    for (uint32_t r = from; r < count; r++) {
      size_t i = n() - 1 - r;
      dst[r].price = ask_ ? -keys_[i] : keys_[i];
      dst[r].size = sizes_[i] > 0 ? static_cast<uint64_t>(sizes_[i]) : 0;
      dst[r].orders = orders_[i];
      dst[r].reserved = 0;
    }
    return count;
  }

 private:
  // Index of `key`, or -(insertion point) - 1.
  int64_t Find(int64_t key) const {
    int64_t lo = 0, hi = static_cast<int64_t>(keys_.size()) - 1;
    const int64_t* k = keys_.data();
    while (lo <= hi) {
      int64_t mid = (lo + hi) >> 1;
      if (k[mid] < key) lo = mid + 1;
      else if (k[mid] > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  bool ask_;
  std::vector<int64_t> keys_;
  std::vector<int64_t> sizes_;
  std::vector<uint32_t> orders_;
};

struct Book {
  Ladder bids{false};
  Ladder asks{true};
  Ladder& Side(bool ask) { return ask ? asks : bids; }
};

// A live order, stored in the table row itself.
struct Order {
  uint64_t ref;     // 0: an empty row (ITCH references are never 0 in a real feed; see Put)
  uint32_t price;
  uint32_t shares;
  uint16_t locate;
  uint8_t ask;
  uint8_t used;
};
static_assert(sizeof(Order) == 24, "an order row is 24 bytes");

// Asks for a line to read soon (`write`: to write soon). Asm statements on x86-64: GCC 12's
// dead-code pass drops a __builtin_prefetch whose address is a hash of the key (seen in the
// disassembly: none emitted). PREFETCHW leaves the line exclusive, so the store that follows
// waits for no upgrade from the shared state (CPUs without it execute it as a no-op).
template <bool write = false>
inline void Prefetch(const void* p) {
#if defined(__x86_64__)
  if (write) __asm__ volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
  else __asm__ volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, write ? 1 : 0, 3);
#endif
}
inline void PrefetchRead(const void* p) { Prefetch<false>(p); }
inline void PrefetchWrite(const void* p) { Prefetch<true>(p); }

// Rows of a table too large for the caches, zero-filled: on 2 MiB pages where the kernel gives them
// (transparent huge pages on advice), so a random lookup costs a cache miss but not also a TLB miss
// and a page walk (a whole market's live orders fill hundreds of MiB of 4 KiB pages otherwise).
template <typename Row>
class HugeRows {
 public:
  explicit HugeRows(size_t n) : n_(n), bytes_((n * sizeof(Row) + kHuge - 1) / kHuge * kHuge) {
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    madvise(p, bytes_, MADV_HUGEPAGE);  // advice only: 4 KiB pages if refused
    rows_ = static_cast<Row*>(p);
  }
  ~HugeRows() { munmap(rows_, bytes_); }
  HugeRows(const HugeRows&) = delete;
  HugeRows& operator=(const HugeRows&) = delete;
  size_t size() const { return n_; }
  Row* data() { return rows_; }
  const Row* data() const { return rows_; }
  Row& operator[](size_t i) { return rows_[i]; }
  const Row& operator[](size_t i) const { return rows_[i]; }

 private:
  static constexpr size_t kHuge = 2u << 20;
  size_t n_, bytes_;
  Row* rows_;
};

// Live orders by reference: linear probing, backward-shift deletion (no tombstones pile up over a
// long day), at most half full, doubled when it would not be.
class OrderTable {
 public:
  OrderTable() : rows_(new HugeRows<Order>(1u << 16)), base_(rows_->data()), mask_((1u << 16) - 1) {}
  size_t size() const { return count_; }

  Order* Find(uint64_t ref) {
    HugeRows<Order>& rows = *rows_;
    for (size_t i = Home(ref);; i = (i + 1) & mask_) {
      Order& o = rows[i];
      if (!o.used) return nullptr;
      if (o.ref == ref) return &o;
    }
  }

  // Starts loading the row `ref` hashes to: the next message's lookup then finds it in cache.
  void Prefetch(uint64_t ref) const {
    const Order* row = base_ + Home(ref);
    PrefetchRead(row);
    // A row may straddle two lines: its `used` byte (offset 19) then lies in the second.
    PrefetchRead(reinterpret_cast<const uint8_t*>(row) + offsetof(Order, used));
  }

  // Inserts a reference known to be absent.
  void Put(uint64_t ref, uint16_t locate, bool ask, uint32_t price, uint32_t shares) {
    if ((count_ + 1) * 2 > rows_->size()) Grow();
    HugeRows<Order>& rows = *rows_;
    size_t i = Home(ref);
    while (rows[i].used) i = (i + 1) & mask_;
    rows[i] = Order{ref, price, shares, locate, static_cast<uint8_t>(ask), 1};
    count_++;
  }

  // Removes the row `o` points at (from Find).
  void Remove(Order* o) {
    HugeRows<Order>& rows = *rows_;
    size_t i = static_cast<size_t>(o - rows.data());
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (!rows[j].used) break;
      size_t h = Home(rows[j].ref);
      // Row j may move into hole i if its home is not in (i, j] (cyclically).
      bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      rows[i] = rows[j];
      i = j;
    }
    rows[i].used = 0;
    count_--;
  }

 private:
  // murmur3's 64-bit finaliser: references are counters, their low bits alone would cluster.
  size_t Home(uint64_t k) const {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return static_cast<size_t>(k) & mask_;
  }
  void Grow() {
    std::unique_ptr<HugeRows<Order>> old(new HugeRows<Order>(rows_->size() * 2));
    old.swap(rows_);
    base_ = rows_->data();
    mask_ = rows_->size() - 1;
    count_ = 0;
    for (size_t i = 0; i < old->size(); i++) {
      const Order& o = (*old)[i];
      if (o.used) Put(o.ref, o.locate, o.ask, o.price, o.shares);
    }
  }

  std::unique_ptr<HugeRows<Order>> rows_;
  Order* base_;  // rows_->data()
  size_t mask_;
  size_t count_ = 0;
};

struct BookCounters {
  double unknown_order_refs = 0;
  double duplicate_order_refs = 0;
  double over_executions = 0;
};

// Every instrument's book, by stock locate; the rules of feed/itch/books.ts. Apply* return the
// locate whose book changed (or -1) and leave in touched_rank the best rank of a level changed by
// value (kNoRank: none), so "the top N changed" is touched_rank < N.
class Books {
 public:
  Books() : by_locate_(65536) {}
  OrderTable orders;
  BookCounters counters;
  int32_t touched_rank = kNoRank;
  bool touched_ask = false;  // the side of touched_rank's level (a message touches one side)

  Book& At(uint16_t locate) {
    std::unique_ptr<Book>& b = by_locate_[locate];
    if (!b) b.reset(new Book());
    return *b;
  }

  int32_t Add(uint64_t ref, uint16_t locate, bool ask, uint32_t price, uint32_t shares) {
    if (orders.Find(ref) != nullptr) {
      counters.duplicate_order_refs++;
      return -1;
    }
    orders.Put(ref, locate, ask, price, shares);
    int32_t rank = At(locate).Side(ask).Add(price, shares);
    if (rank < touched_rank) touched_rank = rank, touched_ask = ask;
    return locate;
  }

  // Takes `shares` off order `ref` (-1: all of it, a delete).
  int32_t Reduce(uint64_t ref, int64_t shares) {
    Order* o = orders.Find(ref);
    if (o == nullptr) {
      counters.unknown_order_refs++;
      return -1;
    }
    uint16_t locate = o->locate;
    int64_t left = o->shares;
    int64_t take = shares < 0 ? left : shares;
    if (take > left) {
      counters.over_executions++;
      take = left;
    }
    bool gone = take == left;
    if (take == 0 && !gone) return locate;  // no level changes by value: nothing touched
    int32_t rank = At(locate).Side(o->ask).Reduce(o->price, take, gone);
    if (rank >= 0 && rank < touched_rank) touched_rank = rank, touched_ask = o->ask;
    if (gone) orders.Remove(o);
    else o->shares = static_cast<uint32_t>(left - take);
    return locate;
  }

  int32_t Replace(uint64_t ref, uint64_t new_ref, uint32_t shares, uint32_t price) {
    Order* o = orders.Find(ref);
    if (o == nullptr) {
      counters.unknown_order_refs++;
      return -1;
    }
    uint16_t locate = o->locate;
    bool ask = o->ask;
    if (o->price == price && o->shares == shares) {
      // Same price, same size: the level is unchanged by value; only the reference changes.
      if (orders.Find(new_ref) != nullptr) {
        counters.duplicate_order_refs++;
        return -1;
      }
      orders.Remove(o);
      orders.Put(new_ref, locate, ask, price, shares);
      return locate;
    }
    Reduce(ref, -1);
    int32_t best = touched_rank;
    Add(new_ref, locate, ask, price, shares);
    if (best < touched_rank) touched_rank = best;
    return locate;
  }

 private:
  std::vector<std::unique_ptr<Book>> by_locate_;
};

}  // namespace itch
}  // namespace mdfan
