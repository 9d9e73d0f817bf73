/**
 * zstd decompression as a stream, frame by frame, with each frame's content checksum verified.
 * fzstd (pure JavaScript: Node 20 has no zstd, and a native addon would need a compiler at
 * install) decodes; it does not check the checksum, so a block damaged in a way that still decodes
 * would pass unseen. This reads the frame structure itself (RFC 8878: the frame header, then
 * blocks by their 3-byte headers, then the optional 4-byte checksum), hands fzstd each frame's bytes
 * up to its end, and compares the low 32 bits of the XXH64 of what the frame decoded to with the
 * checksum it carries. Skippable frames are skipped; anything that is not a frame is corrupt.
 * Errors carry `zstd`: fzstd's code, or one of ZSTD_ERR below. An error does not fail the
 * Transform (that would destroy it and drop what was decoded before the error, still buffered: the
 * offset named would be too early and those records never replayed): it ends the output there, the
 * rest of the input is read and dropped, and `failure()` holds it for the stream's reader.
 */
import { Transform } from 'node:stream';
import { Decompress } from 'fzstd';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

/** fzstd's code for a stream that ends inside a frame; this module's own codes beside fzstd's. */
export const ZSTD_ERR = Object.freeze({ EOF: 5, CHECKSUM: 100, NOT_A_FRAME: 101, RESERVED: 102 });

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_HEADER_BYTES = 3;
const CHECKSUM_BYTES = 4;

let api: Promise<XXHashAPI> | null = null;

/** Where the scanner is in the frame structure. */
const At = Object.freeze({
  Magic: 0,
  Header: 1,
  /** The window descriptor, dictionary id and content size after the header descriptor (not needed: skipped). */
  HeaderRest: 2,
  SkipSize: 3,
  Skip: 4,
  BlockHeader: 5,
  BlockBody: 6,
  Checksum: 7,
});

const fail = (message: string, code: number): Error => Object.assign(new Error(message), { zstd: code });

export function zstdStream(): { out: Transform; failure: () => Error | null } {
  let failed: Error | null = null;
  let hasher: ReturnType<XXHashAPI['create64']> | null = null;
  let xx: XXHashAPI | null = null;
  let out: Transform;
  const d = new Decompress((chunk) => {
    hasher?.update(chunk);
    out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  });
  // The scanner: bytes of the current small field, and how many body bytes are left to pass.
  let at: number = At.Magic;
  const field = Buffer.alloc(14); // the largest header: magic 4 + FHD 1 + window 1 + dict 4 + FCS 8 - magic: up to 14 after
  let have = 0;
  let want = 4;
  let left = 0;
  let lastBlock = false;
  let checksummed = false;
  /** Compressed bytes before the current chunk, for error offsets. */
  let base = 0;
  let frames = 0;

  /** Consumes `chunk`, handing fzstd every byte of a frame; checks each frame's checksum at its end. */
  const scan = (chunk: Buffer): void => {
    let p = 0;
    let passFrom = 0; // bytes of this chunk from here on are not yet handed to fzstd
    // Every byte goes to fzstd; a frame's last byte ends a push, so that its whole content has been
    // decoded (and hashed) when its checksum is compared.
    const pass = (to: number): void => {
      if (to > passFrom) d.push(chunk.subarray(passFrom, to), false);
      passFrom = to;
    };
    while (p < chunk.length) {
      if (at === At.Skip) {
        const n = Math.min(left, chunk.length - p);
        p += n;
        left -= n;
        if (left === 0) {
          at = At.Magic;
          want = 4;
        }
        continue;
      }
      if (at === At.BlockBody) {
        const n = Math.min(left, chunk.length - p);
        p += n;
        left -= n;
        if (left === 0) nextAfterBlock(p);
        continue;
      }
      // A small field: gather `want` bytes.
      const n = Math.min(want - have, chunk.length - p);
      chunk.copy(field, have, p, p + n);
      have += n;
      p += n;
      if (have < want) break;
      have = 0;
      if (at === At.Magic) {
        const magic = field.readUInt32LE(0);
        if ((magic & SKIPPABLE_MASK) === SKIPPABLE_MAGIC) {
          at = At.SkipSize; // fzstd skips it too: its bytes go through
          want = 4;
        } else if (magic === FRAME_MAGIC) {
          at = At.Header;
          want = 1; // the frame header descriptor first
          hasher = null;
        } else throw fail(`not a zstd frame at compressed byte offset ${base + p - 4} (magic 0x${magic.toString(16).padStart(8, '0')}, frame ${frames})`, ZSTD_ERR.NOT_A_FRAME);
      } else if (at === At.SkipSize) {
        left = field.readUInt32LE(0);
        at = At.Skip;
        if (left === 0) {
          at = At.Magic;
          want = 4;
        }
      } else if (at === At.Header) {
        const fhd = field[0]!;
        if ((fhd & 0x08) !== 0) throw fail(`zstd frame ${frames} at compressed byte offset ${base + p - 1}: reserved bit set in the frame header`, ZSTD_ERR.RESERVED);
        const single = (fhd & 0x20) !== 0;
        const fcs = [single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
        const dict = [0, 1, 2, 4][fhd & 3]!;
        checksummed = (fhd & 0x04) !== 0;
        if (checksummed) hasher = xx!.create64(0n);
        want = (single ? 0 : 1) + dict + fcs;
        at = want > 0 ? At.HeaderRest : At.BlockHeader;
        if (want === 0) want = BLOCK_HEADER_BYTES;
      } else if (at === At.HeaderRest) {
        at = At.BlockHeader;
        want = BLOCK_HEADER_BYTES;
      } else if (at === At.BlockHeader) {
        const h = field[0]! | (field[1]! << 8) | (field[2]! << 16);
        lastBlock = (h & 1) !== 0;
        const type = (h >> 1) & 3;
        const size = h >>> 3;
        if (type === 3) throw fail(`zstd frame ${frames}: reserved block type at compressed byte offset ${base + p - 3}`, ZSTD_ERR.RESERVED);
        left = type === 1 ? 1 : size; // RLE: one byte, repeated
        at = At.BlockBody;
        if (left === 0) nextAfterBlock(p);
      } else if (at === At.Checksum) {
        pass(p);
        const stored = field.readUInt32LE(0);
        const got = Number(hasher!.digest() & 0xffffffffn);
        if (got !== stored)
          throw fail(`zstd frame ${frames} ending at compressed byte offset ${base + p}: content checksum 0x${got.toString(16)} is not the frame's 0x${stored.toString(16)}`, ZSTD_ERR.CHECKSUM);
        endFrame();
      }
    }
    pass(chunk.length);
    base += chunk.length;

    function nextAfterBlock(q: number): void {
      if (!lastBlock) {
        at = At.BlockHeader;
        want = BLOCK_HEADER_BYTES;
        return;
      }
      if (checksummed) {
        at = At.Checksum;
        want = CHECKSUM_BYTES;
        return;
      }
      pass(q);
      endFrame();
    }
  };

  const endFrame = (): void => {
    frames++;
    hasher = null;
    at = At.Magic;
    want = 4;
  };

  const stop = (e: unknown): void => {
    failed = asZstdError(e);
    out.push(null); // what follows is not decoded
  };
  out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const go = (): void => {
        try {
          if (failed === null) scan(chunk);
        } catch (e) {
          stop(e);
        }
        done();
      };
      if (xx !== null) return go();
      api ??= xxhash();
      api.then((x) => {
        xx = x;
        go();
      }, done);
    },
    flush(done) {
      // The stream ends: between frames is the only clean place.
      if (failed === null && at === At.Magic && have > 0) stop(fail(`zstd stream ends with ${have} bytes after frame ${frames - 1} that are not a zstd frame (compressed byte offset ${base - have})`, ZSTD_ERR.NOT_A_FRAME));
      else if (failed === null && at !== At.Magic) stop(fail(`zstd stream ends inside frame ${frames} after ${base} compressed bytes`, ZSTD_ERR.EOF));
      done();
    },
  });
  return { out, failure: () => failed };
}

/** fzstd's errors carry a numeric code; ours already have `zstd`. */
function asZstdError(e: unknown): Error {
  if ((e as { zstd?: number }).zstd !== undefined) return e as Error;
  return fail((e as Error).message, (e as { code?: number }).code ?? -1);
}
