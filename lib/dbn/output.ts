/**
 * Where a DBN stream is written while it grows: records are encoded straight into one staging
 * buffer (reserve()), which goes to the file when full and at close; a name ending in `.zst` is
 * compressed as it goes (one zstd frame, streamed chunk by chunk), so memory stays one buffer
 * whatever the length of the recording. The file is made as openGrowingOutputFile makes it (never
 * through a planted link; readable while written); errors name the path with a stable code.
 */
import { writeSync } from 'node:fs';
import { Zstd } from '@hpcc-js/wasm-zstd';
import { type GrowingOutputFile, openGrowingOutputFile, outputError } from '../out-file.js';

/** Bytes staged before a write (or a compressed chunk). */
const STAGE_BYTES = 1 << 16;

export class DbnOutput {
  private readonly stage = Buffer.allocUnsafe(STAGE_BYTES);
  private used = 0;
  private closed = false;
  /** Bytes of DBN (before compression) and bytes in the file. */
  streamBytes = 0;
  fileBytes = 0;

  private constructor(
    private readonly out: GrowingOutputFile,
    private readonly zstd: Zstd | null,
  ) {}

  /** Opens `file` (zstd when it ends in .zst); throws MDFAN_ERR_OUTPUT / _PERMISSION naming it. */
  static async open(file: string): Promise<DbnOutput> {
    const zstd = file.endsWith('.zst') ? await Zstd.load() : null;
    const out = openGrowingOutputFile(file);
    // One compressor per process (the module's); a new stream starts from a clean state.
    zstd?.reset();
    return new DbnOutput(out, zstd);
  }

  get file(): string {
    return this.out.file;
  }

  get compressed(): boolean {
    return this.zstd !== null;
  }

  /** The staging buffer: a record reserved with reserve() is encoded at the offset it returns. */
  get buf(): Buffer {
    return this.stage;
  }

  /** Room for `bytes` in buf, at the returned offset (the staged bytes go out first if it is full). */
  reserve(bytes: number): number {
    if (this.used + bytes > STAGE_BYTES) this.flush();
    const at = this.used;
    this.used += bytes;
    this.streamBytes += bytes;
    return at;
  }

  /** Bytes written as they are (the metadata), after what is staged. */
  write(bytes: Uint8Array): void {
    this.flush();
    this.streamBytes += bytes.length;
    this.emit(bytes);
  }

  /** What is staged, to the file (compressed: to the compressor, which may keep part of it). */
  flush(): void {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.emit(this.stage.subarray(0, n));
  }

  private emit(bytes: Uint8Array): void {
    this.put(this.zstd ? this.zstd.compressChunk(bytes) : bytes);
  }

  private put(bytes: Uint8Array): void {
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(this.out.fd, bytes, at, bytes.length - at);
    } catch (e) {
      throw outputError(e, this.out.file);
    }
    this.fileBytes += bytes.length;
  }

  /** Flushes everything (ends the zstd frame) and closes the file; the file is closed even if a write fails. Safe twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
      if (this.zstd) this.put(this.zstd.compressEnd());
    } finally {
      this.out.close();
    }
  }
}
