/**
 * `mdfan feed --source A [--source B ...]`: which sources, which symbols each one takes, and how
 * they run together into one publisher. One source keeps the venue's own symbol names. Several
 * share the segment with each symbol named `SCHEME:SYMBOL` (feed/publish/qualified.ts); --symbols
 * then takes qualified names (one source's symbol) or bare ones (that symbol on every source), and a
 * scheme may be given once (two sources of one scheme would name their symbols alike).
 */
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { CounterSum, QualifiedSink, qualifiedSymbol } from '../publish/qualified.js';
import type { BookSink, FeedSource, RunContext } from '../sink.js';

export interface SourcePlan {
  text: string;
  scheme: string;
  /** The symbols this source takes (its own spelling), null: any. */
  symbols: string[] | null;
}

const schemeOf = (text: string): string => {
  const i = text.indexOf(':');
  return i > 0 ? text.slice(0, i) : text;
};

/** The sources and the publisher's --symbols filter (in the segment's names). */
export function planSources(texts: readonly string[], symbols: ReadonlySet<string> | null): { plans: SourcePlan[]; published: Set<string> | null } {
  if (texts.length === 1) return { plans: [{ text: texts[0]!, scheme: schemeOf(texts[0]!), symbols: symbols ? [...symbols] : null }], published: symbols ? new Set(symbols) : null };
  const plans = texts.map((text) => ({ text, scheme: schemeOf(text), symbols: null as string[] | null }));
  const seen = new Set<string>();
  for (const p of plans) {
    if (seen.has(p.scheme))
      throw new MdfanError(ErrorCode.OPTIONS, `--source ${p.scheme}: given twice; several sources share a segment as SCHEME:SYMBOL, so each scheme may appear once`, { flag: '--source', found: p.scheme });
    seen.add(p.scheme);
  }
  if (symbols === null) return { plans, published: null };
  const published = new Set<string>();
  for (const s of symbols) {
    const i = s.indexOf(':');
    const owner = i > 0 ? plans.find((p) => p.scheme === s.slice(0, i)) : undefined;
    if (i > 0 && owner === undefined) throw new MdfanError(ErrorCode.OPTIONS, `--symbols ${s}: no --source ${s.slice(0, i)}:... was given`, { flag: '--symbols', found: s });
    for (const p of owner ? [owner] : plans) {
      const own = owner ? s.slice(i + 1) : s;
      if (p.symbols === null) p.symbols = [];
      p.symbols.push(own);
      published.add(qualifiedSymbol(p.scheme, own));
    }
  }
  return { plans, published };
}

/**
 * Runs every source into `sink` until all end. One source's failure stops the others (the first
 * error is thrown once they have ended: what they published stays).
 */
export async function runSources(sources: readonly FeedSource[], plans: readonly SourcePlan[], sink: BookSink, ctx: RunContext): Promise<void> {
  if (sources.length === 1) return sources[0]!.run(sink, ctx);
  const sum = new CounterSum(sink);
  let first: unknown = null;
  await Promise.all(
    sources.map((s, i) =>
      s.run(new QualifiedSink(sink, plans[i]!.scheme, sum, i), { ...ctx, progress: undefined }).catch((e: unknown) => {
        first ??= e;
        ctx.stop.requested = true;
      }),
    ),
  );
  if (first !== null) throw first;
}
