/** An ITCH file as a stream of checked messages, for callers that pace nothing between chunks. */
import { type InputFile, openInputStream } from '../input-stream.js';
import { type Frame, FrameCursor } from './framing.js';

/** One framed message of a stream: payload at buf[frame.offset, frame.offset + frame.length). */
export interface StreamedMessage {
  buf: Buffer;
  frame: Frame;
  msgIndex: number;
}

/**
 * Every message of an ITCH file, checked, in order (one reused object: use it before the next).
 * For callers that need no pacing of their own between chunks (`mdfan send`).
 */
export async function* itchMessages(f: InputFile): AsyncGenerator<StreamedMessage> {
  const stream = openInputStream(f);
  const cursor = new FrameCursor(f.file);
  const m: StreamedMessage = { buf: Buffer.alloc(0), frame: { offset: 0, length: 0 }, msgIndex: 0 };
  try {
    for (;;) {
      while (cursor.ready()) {
        m.buf = cursor.bytes;
        cursor.next(m.msgIndex, m.frame);
        yield m;
        m.msgIndex++;
      }
      const chunk = await stream.next(cursor.offset, m.msgIndex);
      if (chunk === null) {
        cursor.end(m.msgIndex);
        return;
      }
      cursor.append(chunk);
    }
  } finally {
    stream.close();
  }
}
