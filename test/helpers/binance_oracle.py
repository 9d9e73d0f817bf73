#!/usr/bin/env python3
"""An independent oracle for the Binance sources: reads a capture (one or more files, merged by
recv_ns, a tie keeping the files' order), applies Binance's documented rules for a local order book
and writes the book after every applied depth event in the --dump-books format:
`msgIndex,SYMBOL,ask1px,ask1size,bid1px,bid1size,...` for N levels, integers at the given decimals,
empty levels `9999999999,0` / `-9999999999,0`.

Written from the rules (the data README and Binance's "How to manage a local order book correctly"),
with the standard library only: gzip, json, decimal.Decimal.

Rules (L = the snapshot's lastUpdateId):
  futures: drop u < L; the first applied has U <= L <= u; later pu == previous u, else lost.
  spot:    drop u <= L; the first applied has U <= L+1 <= u; later U <= previous u + 1, else lost.
  an event whose u is not above the last applied u is a duplicate (dropped).
  events before a snapshot wait for it; a lost book waits for the next snapshot (events kept).
  A lost book is marked STALE (no line written: nothing was applied) until the first event
  applied after a new snapshot.
  a snapshot while the book is in sync re-anchors it (L its lastUpdateId, u the last applied):
    L > u:  it is loaded as a first snapshot; the events that follow meet the first-sync rules;
    L <= u: the events applied since the book's last snapshot load (the last 16,384 at most) that
            are not older than L are applied again on the loaded snapshot, the first of them
            bridging L (U <= L+1 on spot, U <= L on futures), and the book is written once, at the
            snapshot's line; if the first does not bridge (the kept events do not reach back to
            L), the snapshot is not used (counted failed). The edge is the used snapshot's.
  a payload that is not JSON of a known shape, or a number with more decimals than the scale
  holds, is malformed: counted, never applied.
Also (--top-line FILE) the top-of-book line: `msgIndex,SYMBOL,bidPx,bidSize,askPx,askSize` each time
it changes owner by update id: a bookTicker with u above the shown id, or a depth event with u at or
above it.

usage: binance_oracle.py --venue futures|spot --levels N --price-decimals P --size-decimals S
                         --out DUMP [--top-line FILE] [--summary JSON] CAPTURE [CAPTURE...]
"""
import argparse
import bisect
import decimal
import gzip
import heapq
from collections import deque
import json
import sys

decimal.getcontext().prec = 60
EMPTY_ASK = '9999999999,0'
EMPTY_BID = '-9999999999,0'


class Malformed(Exception):
    pass


def open_capture(path):
    with open(path, 'rb') as f:
        magic = f.read(2)
    raw = gzip.open(path, 'rb') if magic == b'\x1f\x8b' else open(path, 'rb')
    return raw


def lines_of(path, file_no):
    """(recv_ns, file_no, seq, payload) of each whole line; a cut end stops quietly."""
    f = open_capture(path)
    seq = 0
    try:
        while True:
            try:
                line = f.readline()
            except (EOFError, OSError):
                return
            if not line:
                return
            if not line.endswith(b'\n'):
                return  # cut off
            text = line[:-1].decode('latin-1')
            sp = text.index(' ')
            yield (int(text[:sp]), file_no, seq, text[sp + 1:])
            seq += 1
    finally:
        f.close()


def to_int(text, places, signed):
    if not isinstance(text, str):
        raise Malformed('not a string')
    body = text[1:] if signed and text.startswith('-') else text
    ip, dot, fp = body.partition('.')
    if not ip.isdigit() or not ip.isascii() or (dot and (not fp.isdigit() or not fp.isascii())):
        raise Malformed('syntax')
    d = decimal.Decimal(text)
    scaled = d.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise Malformed('more decimals')
    n = int(scaled)
    if abs(n) > 2**53 - 1:
        raise Malformed('too large')
    return n


class Side:
    """Price -> size, plus the prices kept sorted so that the best is first."""

    def __init__(self, is_bid):
        self.is_bid = is_bid
        self.size = {}
        self.order = []  # sort keys: -price for bids, price for asks

    def key(self, price):
        return -price if self.is_bid else price

    def put(self, price, qty):
        k = self.key(price)
        if qty == 0:
            if price in self.size:
                del self.size[price]
                self.order.pop(bisect.bisect_left(self.order, k))
            return
        if price not in self.size:
            bisect.insort(self.order, k)
        self.size[price] = qty

    def reset(self):
        self.size = {}
        self.order = []

    def best(self, n):
        return [(-k if self.is_bid else k, self.size[-k if self.is_bid else k]) for k in self.order[:n]]


class Book:
    def __init__(self, symbol):
        self.symbol = symbol
        self.bids = Side(True)
        self.asks = Side(False)
        self.synced = False
        self.has_snapshot = False
        self.L = None
        self.last_u = None
        self.waiting = []  # (msg_index, data) of events kept for a snapshot
        self.history = deque(maxlen=HISTORY)  # events applied since the last snapshot load
        self.published = False
        self.stale = False
        self.shown_id = -1
        # The snapshot's worst price a side (None: the snapshot held the whole side): past it the
        # book is unknown, so a published level there makes the book doubtful.
        self.bid_edge = None
        self.ask_edge = None


# Levels a side of the REST snapshots the recordings hold (limit=1000).
SNAPSHOT_LIMIT = 1000
# Applied events kept for a re-anchoring snapshot older than the book.
HISTORY = 16384


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--venue', choices=['futures', 'spot'], required=True)
    ap.add_argument('--levels', type=int, required=True)
    ap.add_argument('--price-decimals', type=int, required=True)
    ap.add_argument('--size-decimals', type=int, required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--top-line')
    ap.add_argument('--summary')
    ap.add_argument('captures', nargs='+')
    a = ap.parse_args()
    futures = a.venue == 'futures'
    P, S, N = a.price_decimals, a.size_decimals, a.levels
    out = open(a.out, 'w')
    top_out = open(a.top_line, 'w') if a.top_line else None
    books = {}
    stats = dict(past_edge=0, last_past_edge=False, past_edge_indexes=[], applied=0, dropped_old=0, duplicates=0, gaps=0, stale_marks=0, malformed=0, snapshots=0, tickers=0, tickers_dropped=0, trades=0, reanchors=0, reanchors_failed=0, reanchor_indexes=[])

    def write_book(i, b):
        asks = b.asks.best(N)
        bids = b.bids.best(N)
        cols = [str(i), b.symbol]
        for lv in range(N):
            cols.append(f'{asks[lv][0]},{asks[lv][1]}' if lv < len(asks) else EMPTY_ASK)
            cols.append(f'{bids[lv][0]},{bids[lv][1]}' if lv < len(bids) else EMPTY_BID)
        out.write(','.join(cols) + '\n')
        b.published = True
        past = (b.bid_edge is not None and bids and bids[-1][0] < b.bid_edge) or (b.ask_edge is not None and asks and asks[-1][0] > b.ask_edge)
        stats['past_edge'] += 1 if past else 0
        stats['last_past_edge'] = bool(past)
        if past:
            stats['past_edge_indexes'].append(i)

    def write_top(i, b, bid, bsz, ask, asz):
        if top_out:
            top_out.write(f'{i},{b.symbol},{bid},{bsz},{ask},{asz}\n')

    def levels(arr):
        if not isinstance(arr, list):
            raise Malformed('levels')
        res = []
        for lv in arr:
            if not isinstance(lv, list) or len(lv) < 2:
                raise Malformed('level')
            res.append((to_int(lv[0], P, True), to_int(lv[1], S, False)))
        return res

    def lose(i, b):
        stats['gaps'] += 1
        b.synced = False
        b.has_snapshot = False
        b.history.clear()
        if b.published and not b.stale:
            b.stale = True
            stats['stale_marks'] += 1

    def on_depth(i, b, ev):
        U, u, pu, bl, al, E = ev
        if not b.has_snapshot:
            b.waiting.append((i, ev))
            return
        if not b.synced:
            old = u < b.L if futures else u <= b.L
            if old:
                stats['dropped_old'] += 1
                return
            ok = U <= b.L if futures else U <= b.L + 1
            if not ok:
                lose(i, b)
                b.waiting.append((i, ev))
                return
            b.synced = True
        else:
            if u <= b.last_u:
                stats['duplicates'] += 1
                return
            ok = pu == b.last_u if futures else U <= b.last_u + 1
            if not ok:
                lose(i, b)
                b.waiting.append((i, ev))
                return
        for p, q in bl:
            b.bids.put(p, q)
        for p, q in al:
            b.asks.put(p, q)
        b.last_u = u
        b.history.append(ev)
        b.stale = False
        stats['applied'] += 1
        write_book(i, b)
        if u >= b.shown_id:
            b.shown_id = u
            bb = b.bids.best(1)
            aa = b.asks.best(1)
            write_top(i, b, *(bb[0] if bb else (-9999999999, 0)), *(aa[0] if aa else (9999999999, 0)))

    def seed(b, bl, al):
        stats['snapshots'] += 1
        b.bids.reset()
        b.asks.reset()
        for p, q in bl:
            b.bids.put(p, q)
        for p, q in al:
            b.asks.put(p, q)
        b.bid_edge = min(p for p, _ in bl) if len(bl) >= SNAPSHOT_LIMIT else None
        b.ask_edge = max(p for p, _ in al) if len(al) >= SNAPSHOT_LIMIT else None

    def reanchor_older(i, b, bl, al, L):
        newer = [ev for ev in b.history if (ev[1] >= L if futures else ev[1] > L)]
        if newer and newer[0][0] > (L if futures else L + 1):
            stats['reanchors_failed'] += 1
            return
        seed(b, bl, al)
        for ev in newer:
            for p, q in ev[3]:
                b.bids.put(p, q)
            for p, q in ev[4]:
                b.asks.put(p, q)
        b.L = L
        stats['reanchors'] += 1
        stats['reanchor_indexes'].append(i)
        write_book(i, b)
        if b.last_u >= b.shown_id:
            b.shown_id = b.last_u
            bb = b.bids.best(1)
            aa = b.asks.best(1)
            write_top(i, b, *(bb[0] if bb else (-9999999999, 0)), *(aa[0] if aa else (9999999999, 0)))

    def on_snapshot(i, b, bl, al, L):
        if b.synced:
            if L <= b.last_u:
                reanchor_older(i, b, bl, al, L)
                return
            stats['reanchors'] += 1
            stats['reanchor_indexes'].append(i)
            b.synced = False
        seed(b, bl, al)
        b.history.clear()
        b.L = L
        b.has_snapshot = True
        b.last_u = None
        kept, b.waiting = b.waiting, []
        for j, ev in kept:
            on_depth(j, b, ev)

    def book_of(sym):
        if sym not in books:
            books[sym] = Book(sym)
        return books[sym]

    files = [lines_of(p, k) for k, p in enumerate(a.captures)]
    merged = heapq.merge(*files) if len(files) > 1 else files[0]
    for i, (_, _, _, payload) in enumerate(merged):
        try:
            try:
                m = json.loads(payload)
            except ValueError:
                raise Malformed('json')
            if not isinstance(m, dict):
                raise Malformed('shape')
            if 'stream' not in m:
                if 'lastUpdateId' not in m:
                    raise Malformed('shape')
                L = m['lastUpdateId']
                if not isinstance(L, int) or isinstance(L, bool):
                    raise Malformed('L')
                bl, al = levels(m.get('bids')), levels(m.get('asks'))
                sym = m.get('symbol')
                if sym is None:
                    if len(books) != 1:
                        raise Malformed('snapshot of unknown symbol')
                    sym = next(iter(books))
                on_snapshot(i, book_of(sym), bl, al, L)
                continue
            stream, d = m['stream'], m.get('data')
            if not isinstance(stream, str) or not isinstance(d, dict):
                raise Malformed('shape')
            name, _, kind = stream.partition('@')
            sym = d.get('s')
            if not isinstance(sym, str) or sym.lower() != name:
                raise Malformed('symbol')
            if kind.startswith('depth'):
                if d.get('e') != 'depthUpdate':
                    raise Malformed('e')
                ids = [d.get('U'), d.get('u'), d.get('pu') if futures else 0, d.get('E')]
                if any(not isinstance(x, int) or isinstance(x, bool) for x in ids) or ids[1] < ids[0]:
                    raise Malformed('ids')
                ev = (ids[0], ids[1], ids[2], levels(d.get('b')), levels(d.get('a')), ids[3])
                on_depth(i, book_of(sym), ev)
            elif kind == 'bookTicker':
                u = d.get('u')
                if not isinstance(u, int) or isinstance(u, bool):
                    raise Malformed('u')
                vals = (to_int(d.get('b'), P, True), to_int(d.get('B'), S, False), to_int(d.get('a'), P, True), to_int(d.get('A'), S, False))
                b = book_of(sym)
                if u > b.shown_id:
                    b.shown_id = u
                    stats['tickers'] += 1
                    write_top(i, b, *vals)
                else:
                    stats['tickers_dropped'] += 1
            elif kind == 'trade':
                if d.get('e') != 'trade' or not isinstance(d.get('t'), int):
                    raise Malformed('trade')
                to_int(d.get('p'), P, True)
                to_int(d.get('q'), S, False)
                book_of(sym)
                stats['trades'] += 1
            else:
                raise Malformed('other stream')
        except Malformed:
            stats['malformed'] += 1
    out.close()
    if top_out:
        top_out.close()
    if a.summary:
        with open(a.summary, 'w') as f:
            json.dump(stats, f)
    else:
        json.dump(stats, sys.stderr)
        sys.stderr.write('\n')


if __name__ == '__main__':
    main()
