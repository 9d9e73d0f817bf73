/** Reassembles fixed-size frames from a byte stream (a socket may split or merge writes). */
import { PAYLOAD_BYTES, PAYLOAD_WORDS } from './payload.js';

export class FrameReader {
  /** The current frame, aligned for the Uint32Array view (stream chunks may not be). */
  private readonly words = new Uint32Array(PAYLOAD_WORDS);
  private readonly bytes = new Uint8Array(this.words.buffer);
  private have = 0;

  /** Calls onFrame(words) for each complete frame in `chunk`; `words` is reused between calls. */
  push(chunk: Uint8Array, onFrame: (words: Uint32Array) => void): void {
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(PAYLOAD_BYTES - this.have, chunk.length - at);
      this.bytes.set(chunk.subarray(at, at + n), this.have);
      this.have += n;
      at += n;
      if (this.have === PAYLOAD_BYTES) {
        this.have = 0;
        onFrame(this.words);
      }
    }
  }

  /** Bytes of an incomplete frame left over (non-zero at the end means a truncated stream). */
  get pending(): number {
    return this.have;
  }
}
