/**
 * MoldUDP64 packets (Nasdaq MoldUDP64 v1.00). Downstream:
 *   header 20 bytes: session (10 ASCII), sequence number of the first message (u64 BE),
 *                    message count (u16 BE; 0 = heartbeat, 0xFFFF = end of session)
 *   then `count` message blocks: length (u16 BE) + that many bytes.
 * Request (to the re-request server): the same 20 bytes alone, session, first sequence number
 * wanted, and how many messages; the server answers with downstream packets.
 * Decoding reads in place (no copies, no allocation per packet): the caller gets the payload's
 * offset and length inside the datagram buffer.
 */
export const HEADER_BYTES = 20;
export const SESSION_BYTES = 10;
export const END_OF_SESSION = 0xffff;
/** Keeps packets under a 1500-byte Ethernet MTU with IP and UDP headers. */
export const DEFAULT_MAX_PACKET_BYTES = 1400;

export interface PacketHeader {
  session: string;
  /** Sequence number of the first message (1-based); exact below 2^53. */
  seq: number;
  count: number;
}

/** Reads the header into `out`; false if the datagram is shorter than a header. */
export function readHeader(buf: Buffer, out: PacketHeader): boolean {
  if (buf.length < HEADER_BYTES) return false;
  out.session = buf.toString('latin1', 0, SESSION_BYTES);
  out.seq = buf.readUInt32BE(10) * 4294967296 + buf.readUInt32BE(14);
  out.count = buf.readUInt16BE(18);
  return true;
}

/** Pads or cuts a session name to its 10 bytes. */
export const sessionName = (s: string): string => (s + ' '.repeat(SESSION_BYTES)).slice(0, SESSION_BYTES);

/** Writes a header at the start of `buf` (which must hold HEADER_BYTES). */
export function writeHeader(buf: Buffer, session: string, seq: number, count: number): void {
  buf.write(sessionName(session), 0, SESSION_BYTES, 'latin1');
  buf.writeUInt32BE(Math.floor(seq / 4294967296), 10);
  buf.writeUInt32BE(seq % 4294967296, 14);
  buf.writeUInt16BE(count, 18);
}

/**
 * Packs message payloads into downstream packets of at most maxPacketBytes (a message larger
 * than that travels alone). Used by `mdfan send` and the tests.
 */
export class PacketBuilder {
  private readonly buf: Buffer;
  private used = HEADER_BYTES;
  private count = 0;
  private firstSeq: number;
  readonly session: string;

  constructor(session: string, firstSeq = 1, readonly maxPacketBytes = DEFAULT_MAX_PACKET_BYTES) {
    this.session = sessionName(session);
    this.firstSeq = firstSeq;
    this.buf = Buffer.alloc(Math.max(maxPacketBytes, HEADER_BYTES + 2 + 65535));
  }

  /** Sequence number the next message will get. */
  get nextSeq(): number {
    return this.firstSeq + this.count;
  }

  get pending(): number {
    return this.count;
  }

  /** True if a message of `len` bytes fits in the current packet. */
  fits(len: number): boolean {
    return this.count === 0 || (this.used + 2 + len <= this.maxPacketBytes && this.count < 0xfffe);
  }

  add(payload: Uint8Array, offset: number, len: number): void {
    this.buf.writeUInt16BE(len, this.used);
    this.buf.set(payload.subarray(offset, offset + len), this.used + 2);
    this.used += 2 + len;
    this.count++;
  }

  /** The packet so far (a copy: it goes to the socket) and a fresh packet after it. */
  take(): Buffer {
    writeHeader(this.buf, this.session, this.firstSeq, this.count);
    const out = Buffer.from(this.buf.subarray(0, this.used));
    this.firstSeq += this.count;
    this.count = 0;
    this.used = HEADER_BYTES;
    return out;
  }

  /** A heartbeat (count 0) or end-of-session (count 0xFFFF) packet carrying the next seq. */
  control(count: 0 | typeof END_OF_SESSION): Buffer {
    const b = Buffer.alloc(HEADER_BYTES);
    writeHeader(b, this.session, this.nextSeq, count);
    return b;
  }
}

/** The most messages one request may ask for (0xFFFF means end of session downstream). */
export const MAX_REQUEST_COUNT = 0xfffe;

/** A request packet for messages [seq, seq + count). */
export function requestPacket(session: string, seq: number, count: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  writeHeader(b, session, seq, Math.min(count, MAX_REQUEST_COUNT));
  return b;
}
