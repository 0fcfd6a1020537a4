import { XhttpError } from '../errors.js';
import { utf8 } from '../transport/body.js';
import { own } from '../internal/validate.js';
import type { ResponseBody, XResponse } from '../types.js';

const EMPTY = new Uint8Array(0);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

function isHttpWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A value as `Headers` stores it: HTTP whitespace trimmed at both ends (the parser leaves trailing). */
function headerValue(v: string): string {
  return isHttpWhitespace(v.charCodeAt(0)) || isHttpWhitespace(v.charCodeAt(v.length - 1))
    ? v.replace(HTTP_WHITESPACE, '')
    : v;
}

/**
 * The response's `Headers`: a real one, filled with every response header (repeated ones appended
 * in order) the first time anything but `get` or `has` is asked of it. Those two, the usual reads,
 * answer from the parsed header record: building a `Headers` costs about 0.3 µs a header.
 */
class ResponseHeaders extends Headers {
  #raw: Readonly<Record<string, string | string[]>> | undefined;

  constructor(raw: Readonly<Record<string, string | string[]>>) {
    super();
    this.#raw = raw;
  }

  override get(name: string): string | null {
    const v = this.#lookup(name);
    if (v !== false)
      return v === undefined ? null : typeof v === 'string' ? headerValue(v) : v.map(headerValue).join(', ');
    this.#fill();
    return super.get(name);
  }

  override has(name: string): boolean {
    const v = this.#lookup(name);
    if (v !== false) return v !== undefined;
    this.#fill();
    return super.has(name);
  }

  override append(name: string, value: string): void {
    this.#fill();
    super.append(name, value);
  }

  override set(name: string, value: string): void {
    this.#fill();
    super.set(name, value);
  }

  override delete(name: string): void {
    this.#fill();
    super.delete(name);
  }

  override getSetCookie(): string[] {
    this.#fill();
    return super.getSetCookie();
  }

  override forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#fill();
    super.forEach(callback, thisArg);
  }

  override keys(): HeadersIterator<string> {
    this.#fill();
    return super.keys();
  }

  override values(): HeadersIterator<string> {
    this.#fill();
    return super.values();
  }

  override entries(): HeadersIterator<[string, string]> {
    this.#fill();
    return super.entries();
  }

  // undici copies a Headers whose iterator is its own straight from the internal list: this one
  // must be seen as foreign, so that copies (new Headers(h), a Request's init) read it filled.
  override [Symbol.iterator](): HeadersIterator<[string, string]> {
    this.#fill();
    return super.entries();
  }

  [INSPECT](...args: unknown[]): unknown {
    this.#fill();
    const inspect = (
      Headers.prototype as unknown as Record<symbol, ((...a: unknown[]) => unknown) | undefined>
    )[INSPECT];
    return inspect === undefined ? this : inspect.apply(this, args);
  }

  /** The value while the record still answers (undefined: absent); false when `Headers` must. */
  #lookup(name: string): string | string[] | undefined | false {
    const raw = this.#raw;
    if (raw === undefined || typeof name !== 'string' || !TOKEN.test(name)) return false;
    return own(raw, name.toLowerCase());
  }

  #fill(): void {
    const raw = this.#raw;
    if (raw === undefined) return;
    this.#raw = undefined;
    for (const name of Object.keys(raw)) {
      const value = raw[name]!;
      if (typeof value === 'string') super.append(name, value);
      else for (const v of value) super.append(name, v);
    }
  }
}

/**
 * The `Response` that `client.fetch` resolves to: a real one (`instanceof Response`, every member
 * works) built with neither body nor headers, which is what makes it cheap. `text()`, `json()`,
 * `arrayBuffer()` and `bytes()` decode the buffered bytes directly; `headers` is built on first
 * read; `body`, `blob()` and `formData()` make a web-streams body on first use and read from it
 * from then on. A body is read once, as fetch's: a second read throws `TypeError`.
 */
export class FetchResponse extends Response {
  readonly #res: XResponse;
  /** null for a null-body status (101, 103, 204, 205, 304). */
  readonly #bytes: Uint8Array | null;
  #used = false;
  #headers: Headers | undefined;
  /** Holds the body stream once it was asked for; every read goes through it from then on. */
  #streamed: Response | undefined;

  /** The URL as the call was given it (or a redirect's, absolute): serialized on first read. */
  #url: string;
  #urlSerialized = false;
  readonly #redirected: boolean;

  constructor(res: XResponse, bytes: Uint8Array | null, url = '', redirected = false, headers?: Headers) {
    super(null, { status: res.status, statusText: res.statusText });
    this.#res = res;
    this.#bytes = bytes;
    this.#url = url;
    this.#redirected = redirected;
    this.#headers = headers;
  }

  /** The URL of the response (the last one after redirects), serialized as WHATWG URL does. */
  override get url(): string {
    if (!this.#urlSerialized) {
      this.#urlSerialized = true;
      // fetch's response URL has no fragment; an unparsable one (never sent) reads as ''.
      this.#url = URL.canParse(this.#url) ? new URL(this.#url).href.replace(/#.*$/s, '') : '';
    }
    return this.#url;
  }

  /** `basic`, as every response fetch gives a server-side caller. */
  override get type(): ResponseType {
    return 'basic';
  }

  /** True when at least one redirect was followed. */
  override get redirected(): boolean {
    return this.#redirected;
  }

  override get headers(): Headers {
    return (this.#headers ??= new ResponseHeaders(this.#res.headers));
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#bytes === null ? null : this.#stream().body;
  }

  override get bodyUsed(): boolean {
    return this.#streamed === undefined ? this.#used : this.#streamed.bodyUsed;
  }

  override async text(): Promise<string> {
    return this.#streamed === undefined ? utf8(this.#take()) : this.#streamed.text();
  }

  override async json(): Promise<any> {
    return this.#streamed === undefined ? JSON.parse(utf8(this.#take())) : this.#streamed.json();
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#streamed === undefined ? new Uint8Array(this.#take()).buffer : this.#streamed.arrayBuffer();
  }

  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#streamed === undefined ? new Uint8Array(this.#take()) : this.#streamed.bytes();
  }

  override blob(): Promise<Blob> {
    return this.#stream().blob();
  }

  override formData(): Promise<FormData> {
    return this.#stream().formData();
  }

  override clone(): Response {
    if (this.bodyUsed || this.#streamed?.body?.locked === true)
      throw new TypeError('Response.clone: Body has already been consumed.');
    // The bytes are never handed out (reads copy them), so a clone may share them.
    const headers = this.#headers === undefined ? undefined : new Headers(this.#headers);
    return new FetchResponse(this.#res, this.#bytes, this.url, this.#redirected, headers);
  }

  /** The bytes, marking the body used; a null body reads as empty any number of times, as fetch's. */
  #take(): Uint8Array {
    if (this.#bytes === null) return EMPTY;
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#bytes;
  }

  #stream(): Response {
    if (this.#streamed === undefined) {
      // Headers for blob()'s type and formData()'s boundary; the status stays ours.
      const streamed = new Response(this.#bytes as BodyInit | null, { headers: this.headers });
      // Already read through text() and the like: the stream must say so too.
      if (this.#used) streamed.arrayBuffer().catch(() => undefined);
      this.#streamed = streamed;
    }
    return this.#streamed;
  }
}

/** A body read error as fetch's: the signal's reason on abort, else `TypeError('terminated')` with our cause. */
function bodyError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted === true) return signal.reason;
  return err instanceof XhttpError ? new TypeError('terminated', { cause: err }) : err;
}

/**
 * A `Response` whose body streams from the call's streamed body (`responseType: 'stream'`): a real
 * global `Response` over a `ReadableStream` that pulls one chunk per read (backpressure reaches the
 * socket), with `url`, `redirected` and `type` set as fetch sets them. Cancelling the stream stops
 * the body, freeing the connection.
 */
export function streamingResponse(
  res: XResponse,
  url: string,
  redirected: boolean,
  signal: AbortSignal | undefined,
): Response {
  const body: ResponseBody = res.body;
  let it: AsyncIterator<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      it ??= body[Symbol.asyncIterator]();
      try {
        const r = await it.next();
        if (r.done === true) controller.close();
        else controller.enqueue(new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      } catch (err) {
        controller.error(bodyError(err, signal));
      }
    },
    async cancel() {
      if (it === undefined) await body.dump();
      else await it.return?.();
    },
  });
  const out = new Response(stream, {
    status: res.status,
    statusText: res.statusText,
    headers: new ResponseHeaders(res.headers),
  });
  const href = URL.canParse(url) ? new URL(url).href.replace(/#.*$/s, '') : '';
  Object.defineProperty(out, 'url', { value: href, enumerable: true });
  Object.defineProperty(out, 'redirected', { value: redirected, enumerable: true });
  Object.defineProperty(out, 'type', { value: 'basic', enumerable: true });
  return out;
}
