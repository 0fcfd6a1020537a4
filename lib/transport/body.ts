import type { ResponseBody } from '../types.js';

const decoder = new TextDecoder();

/**
 * UTF-8 text as `TextDecoder` gives it (a leading BOM dropped, bad bytes replaced), through
 * `Buffer#utf8Slice` when the bytes are a Buffer (undici's chunks are): several times cheaper for
 * the small bodies service calls carry.
 */
export function utf8(bytes: Uint8Array): string {
  if (!Buffer.isBuffer(bytes)) return decoder.decode(bytes);
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString('utf8', bom ? 3 : 0);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}

/** A body read in full inside the call chain. Readable any number of times. */
export class BufferedBody implements ResponseBody {
  #bytes: Uint8Array | undefined;
  readonly #chunks: readonly Uint8Array[];
  readonly #total: number;
  bodyUsed = false;

  constructor(chunks: readonly Uint8Array[], total: number) {
    this.#chunks = chunks;
    this.#total = total;
  }

  /** The bytes, synchronously. */
  get buffer(): Uint8Array {
    this.#bytes ??= concat(this.#chunks, this.#total);
    return this.#bytes;
  }

  get length(): number {
    return this.#total;
  }

  async bytes(): Promise<Uint8Array> {
    this.bodyUsed = true;
    return this.buffer;
  }

  async text(): Promise<string> {
    this.bodyUsed = true;
    return utf8(this.buffer);
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  async dump(): Promise<void> {
    this.bodyUsed = true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.bodyUsed = true;
    if (this.#total > 0) yield this.buffer;
  }
}

/** Pause the socket past this many queued bytes. */
const HIGH_WATER_MARK = 64 * 1024;

/**
 * A body streamed from the socket after the response was emitted. Backpressure: `push` returns
 * false past the high-water mark, and `onDrain` resumes the socket once the reader catches up.
 */
export class StreamBody implements ResponseBody {
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: unknown;
  #wake: (() => void) | undefined;
  #paused = false;
  bodyUsed = false;

  /**
   * @param onDrain resumes the socket after backpressure
   * @param onCancel aborts the request when the reader stops early
   */
  constructor(
    private readonly onDrain: () => void,
    private readonly onCancel: () => void,
  ) {}

  /** Called by the transport for each chunk; false asks it to pause. */
  push(chunk: Uint8Array): boolean {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#wake?.();
    this.#paused = this.#queued > HIGH_WATER_MARK;
    return !this.#paused;
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  fail(error: unknown): void {
    this.#error ??= error;
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.bodyUsed) throw new TypeError('body already used');
    this.bodyUsed = true;
    let finished = false;
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk) {
          this.#queued -= chunk.length;
          if (this.#paused && this.#queued <= HIGH_WATER_MARK / 2) {
            this.#paused = false;
            this.onDrain();
          }
          yield chunk;
          continue;
        }
        if (this.#error !== undefined) throw this.#error;
        if (this.#ended) {
          finished = true;
          return;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    } finally {
      if (!finished && this.#error === undefined) this.onCancel();
    }
  }

  async bytes(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const c of this) {
      chunks.push(c);
      total += c.length;
    }
    return concat(chunks, total);
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  async dump(): Promise<void> {
    if (this.bodyUsed) return;
    this.bodyUsed = true;
    this.#queue.length = 0;
    if (!this.#ended) this.onCancel();
  }
}
