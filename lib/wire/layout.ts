/**
 * Record layouts from field lists: each field's offset follows from the ones before it, so a
 * table of numbers cannot drift from the order the doc and the decoders read. Every field sits at
 * a multiple of its own size (1, 2, 4 or 8; byte arrays anywhere): a C or Rust reader may overlay
 * a packed struct without padding surprises. Reserved bytes are fields like any other.
 */

export type Fields = ReadonlyArray<readonly [name: string, bytes: number]>;
export type Offsets<F extends Fields> = { readonly [K in F[number][0]]: number };

export interface Layout<F extends Fields> {
  /** Byte offset of each field. */
  readonly at: Offsets<F>;
  /** The offset after the last field. */
  readonly end: number;
}

const isScalar = (bytes: number): boolean => bytes === 1 || bytes === 2 || bytes === 4 || bytes === 8;

/** The offsets of `fields` laid out from `base`; throws at load when one would be misaligned. */
export function layout<const F extends Fields>(base: number, fields: F): Layout<F> {
  const at: Record<string, number> = {};
  let off = base;
  for (const [name, bytes] of fields) {
    if (isScalar(bytes) && off % bytes !== 0) throw new Error(`wire field ${name} at byte ${off} is not ${bytes}-aligned`);
    at[name] = off;
    off += bytes;
  }
  return Object.freeze({ at: Object.freeze(at) as Offsets<F>, end: off });
}
