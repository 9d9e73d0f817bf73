// A/B: BookReader.read (and readTop) per call, the code before the price rule (old) and after (new),
// alternating in one process over one segment; medians of rounds, ratio new/old.
const [oldDist, newDist] = process.argv.slice(2);
const O = await import(`${oldDist}/workers/index.js`);
const N = await import(`${newDist}/workers/index.js`);
const name = `mdfan-ab-${process.pid}`;
const w = N.SegmentWriter.open({ name, maxInstruments: 4, levels: 10 });
const k = w.addInstrument('GOOG', 1, N.ITCH_SPEC);
const lv = new Float64Array(30).map((_, i) => (i % 3 === 0 ? 5_853_300 - i : 100 + i));
w.publish(k, { bidCount: 10, askCount: 10, bids: lv, asks: lv }, 1, 0);
const ro = await O.BookReader.attach(name, { wait: 'spin' });
const rn = await N.BookReader.attach(name, { wait: 'spin' });
const so = ro.newSnapshot(), sn = rn.newSnapshot();
const to = new O.TopSnapshot(), tn = new N.TopSnapshot();
const CALLS = 2_000_000;
const time = (f) => { const t0 = process.hrtime.bigint(); f(); return Number(process.hrtime.bigint() - t0) / CALLS; };
const loop = (r, s) => () => { let x = 0; for (let i = 0; i < CALLS; i++) x += r.read(k, s); return x; };
const loopTop = (r, s) => () => { let x = 0; for (let i = 0; i < CALLS; i++) x += r.readTop(k, s); return x; };
const res = { bookOld: [], bookNew: [], topOld: [], topNew: [] };
for (let round = 0; round < 15; round++) {
  res.bookOld.push(time(loop(ro, so))); res.bookNew.push(time(loop(rn, sn)));
  res.topOld.push(time(loopTop(ro, to))); res.topNew.push(time(loopTop(rn, tn)));
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const out = Object.fromEntries(Object.entries(res).map(([kk, v]) => [kk, +med(v).toFixed(2)]));
out.bookRatio = +(out.bookNew / out.bookOld).toFixed(3); out.topRatio = +(out.topNew / out.topOld).toFixed(3);
console.log(JSON.stringify(out));
ro.close(); rn.close(); w.close({ unlink: true });
