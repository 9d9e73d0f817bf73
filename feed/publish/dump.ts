/** `--dump-books FILE`: one line per top-N change, buffered and written in 1 MiB blocks. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { formatBookLine } from '../../lib/book-line.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import type { LevelSource } from '../../native/segment/seqlock.js';

export class BookDump {
  private readonly fd: number;
  private parts: string[] = [];
  private pending = 0;
  lines = 0;

  constructor(
    readonly file: string,
    private readonly levels: number,
  ) {
    try {
      this.fd = openSync(file, 'w');
    } catch (e) {
      throw new MdfanError(ErrorCode.OPTIONS, `--dump-books: cannot write ${file}: ${(e as Error).message}`, { file });
    }
  }

  write(msgIndex: number, symbol: string, top: LevelSource): void {
    const line = formatBookLine(msgIndex, symbol, top, this.levels);
    this.parts.push(line);
    this.pending += line.length + 1;
    this.lines++;
    if (this.pending > 1 << 20) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join('\n') + '\n');
    this.parts = [];
    this.pending = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
