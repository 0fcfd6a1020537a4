import { Readable, Transform as StreamTransform, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { XhttpError } from '../errors.js';
import type { Address, ResponseBody } from '../types.js';
import { utf8 } from './body.js';

/** A content coding this runtime can undo. */
export type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

/** More codings than this in one response is refused, as undici's fetch does (a decompression-bomb guard). */
export const MAX_CODINGS = 5;

/** zlib's zstd, present on Node ≥ 22.15 / 23.8 only: looked up, not imported, so Node 20 still loads. */
const zstd = zlib as unknown as {
  zstdDecompressSync?: (b: Uint8Array, o: object) => Buffer;
  createZstdDecompress?: (o: object) => Transform;
};
/** True when the runtime decodes zstd (and so does its fetch). */
export const HAS_ZSTD = typeof zstd.zstdDecompressSync === 'function';

/**
 * The `accept-encoding` undici's fetch sends when the caller sets none: brotli only over TLS.
 * Sent by every call that decodes (the default), so both APIs ask for what they can undo.
 */
export function acceptEncoding(protocol: 'http' | 'https'): string {
  return protocol === 'https' ? 'br, gzip, deflate' : 'gzip, deflate';
}

// Lenient as fetch (and curl): a body cut short after a flush point decodes to what it holds.
const ZLIB_OPTIONS = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI_OPTIONS = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
};
const ZSTD_OPTIONS = {
  flush: (zlib.constants as Record<string, number>)['ZSTD_e_continue'],
  finishFlush: (zlib.constants as Record<string, number>)['ZSTD_e_end'],
};

/**
 * The codings to undo, the last applied first, read from a `content-encoding` value as fetch reads
 * it: any coding it does not know (`identity` included) leaves the whole body as sent. Undefined
 * when there is nothing to undo; `null` past {@link MAX_CODINGS}.
 */
export function codingsOf(value: string | readonly string[] | undefined): Coding[] | undefined | null {
  if (value === undefined) return undefined;
  const list = (typeof value === 'string' ? value : value.join(', ')).toLowerCase().split(',');
  if (list.length > MAX_CODINGS) return null;
  const out: Coding[] = [];
  for (let i = list.length - 1; i >= 0; i--) {
    const c = list[i]!.trim();
    if (c === 'gzip' || c === 'x-gzip') out.push('gzip');
    else if (c === 'deflate' || c === 'br' || (c === 'zstd' && HAS_ZSTD)) out.push(c);
    else return undefined;
  }
  return out.length === 0 ? undefined : out;
}

/** zlib-wrapped deflate (RFC 1950) starts with CM = 8 in its low nibble; anything else is raw deflate. */
function isZlibWrapped(first: number | undefined): boolean {
  return first !== undefined && (first & 0x0f) === 0x08;
}

function tooLarge(limit: number, address: Address): XhttpError {
  return new XhttpError('RESPONSE_TOO_LARGE', `response exceeds ${limit} bytes`, { address });
}

function undecodable(coding: Coding, address: Address): XhttpError {
  return new XhttpError('PROTOCOL', `response body is not valid ${coding}`, { address });
}

function decodeOne(bytes: Uint8Array, coding: Coding, maxOutputLength: number): Uint8Array {
  switch (coding) {
    case 'gzip':
      return zlib.gunzipSync(bytes, { ...ZLIB_OPTIONS, maxOutputLength });
    case 'deflate':
      return isZlibWrapped(bytes[0])
        ? zlib.inflateSync(bytes, { ...ZLIB_OPTIONS, maxOutputLength })
        : zlib.inflateRawSync(bytes, { ...ZLIB_OPTIONS, maxOutputLength });
    case 'br':
      return zlib.brotliDecompressSync(bytes, { ...BROTLI_OPTIONS, maxOutputLength });
    case 'zstd':
      return zstd.zstdDecompressSync!(bytes, { ...ZSTD_OPTIONS, maxOutputLength });
  }
}

/**
 * A buffered body decoded in one go. zlib stops at `limit` output bytes (`maxOutputLength`), so a
 * small body that inflates to gigabytes holds no more than about `limit` before it fails
 * `RESPONSE_TOO_LARGE`; a corrupt one fails `PROTOCOL`. Synchronous: a body this size is decoded
 * faster than a stream pipeline could be set up for it.
 */
export function decodeBuffered(
  bytes: Uint8Array,
  codings: readonly Coding[],
  limit: number,
  address: Address,
): Uint8Array {
  let out = bytes;
  for (const coding of codings) {
    if (out.length === 0) return out;
    try {
      out = decodeOne(out, coding, limit);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit, address);
      throw undecodable(coding, address);
    }
  }
  return out;
}

function decoderFor(coding: Coding): Transform {
  switch (coding) {
    case 'gzip':
      return zlib.createGunzip(ZLIB_OPTIONS);
    case 'deflate':
      return new InflateAuto();
    case 'br':
      return zlib.createBrotliDecompress(BROTLI_OPTIONS);
    case 'zstd':
      return zstd.createZstdDecompress!(ZSTD_OPTIONS);
  }
}

/** Inflate that picks zlib-wrapped or raw deflate on the first byte, as browsers and fetch do. */
class InflateAuto extends StreamTransform {
  #inner: Transform | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#inner === undefined) {
      if (chunk.length === 0) return callback();
      const inner = isZlibWrapped(chunk[0])
        ? zlib.createInflate(ZLIB_OPTIONS)
        : zlib.createInflateRaw(ZLIB_OPTIONS);
      inner.on('data', (c: Buffer) => this.push(c));
      inner.on('error', (err) => this.destroy(err));
      this.#inner = inner;
    }
    this.#inner.write(chunk, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.#inner === undefined) return callback();
    this.#inner.once('end', () => callback());
    this.#inner.end();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#inner?.destroy();
    callback(err);
  }
}

/**
 * A streamed body decoded as it is read: the raw chunks are pulled through zlib only as fast as the
 * reader takes decoded ones (backpressure end to end). Past `limit` decoded bytes the read fails
 * `RESPONSE_TOO_LARGE` and `onError` ends the exchange with it (the request is aborted on the wire).
 */
export class DecodedStreamBody implements ResponseBody {
  bodyUsed = false;

  constructor(
    private readonly raw: ResponseBody,
    private readonly codings: readonly Coding[],
    private readonly limit: number,
    private readonly address: Address,
    private readonly onError: (err: XhttpError) => void,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.bodyUsed) throw new TypeError('body already used');
    this.bodyUsed = true;
    const source = Readable.from(this.raw, { objectMode: false });
    const stages = this.codings.map((c) => decoderFor(c));
    const last = stages[stages.length - 1]!;
    // Errors surface through the iteration below; the promise is only kept from rejecting unheard.
    const done = pipeline([source, ...stages]).catch(() => undefined);
    let total = 0;
    let failed: XhttpError | undefined;
    try {
      for await (const chunk of last as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > this.limit) {
          failed = tooLarge(this.limit, this.address);
          break;
        }
        yield chunk;
      }
    } catch (err) {
      if (err instanceof XhttpError) throw err;
      const coding = this.codings[stages.findIndex((s) => s.errored !== null)] ?? this.codings[0]!;
      failed = undecodable(coding, this.address);
    } finally {
      source.destroy();
      for (const s of stages) s.destroy();
      await done;
    }
    if (failed !== undefined) {
      this.onError(failed);
      throw failed;
    }
  }

  async bytes(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const c of this) {
      chunks.push(c);
      total += c.length;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }

  async text(): Promise<string> {
    return utf8(await this.bytes());
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  dump(): Promise<void> {
    this.bodyUsed = true;
    return this.raw.dump();
  }
}
