import { invalidArgument } from '../errors.js';
import type { CallOptions, RequestBody, XRequest, XResponse } from '../types.js';
import { FetchResponse } from './fetch-response.js';

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const FETCH_INIT_KEYS = new Set([
  'method',
  'headers',
  'body',
  'signal',
  'redirect',
  'retry',
  'timeout',
  'responseType',
  'maxResponseBytes',
  // Accepted for compatibility with fetch code, and ignored: they mean nothing to a server-side client.
  'mode',
  'credentials',
  'cache',
  'referrer',
  'referrerPolicy',
  'integrity',
  'keepalive',
  'priority',
  'window',
  'duplex',
]);
/** The options of a call without `init`: shared, never written. */
const FOLLOW: CallOptions = Object.freeze({ redirect: 'follow' });
/** A request body as the call layer takes it, or `INVALID_ARGUMENT`; a Blob was read to bytes before. */
function bodyOf(body: unknown): RequestBody {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw invalidArgument(
    'init.body',
    'streams and FormData are not supported; pass a string, bytes or URLSearchParams',
  );
}

/**
 * `init.headers` as a record for the call to validate: a plain object as it is (the common case, no
 * copy), anything else through `Headers`, which joins repeated names as fetch does.
 */
function headersInit(init: unknown): Record<string, string> {
  if (typeof init === 'object' && init !== null && !Array.isArray(init)) {
    const proto = Object.getPrototypeOf(init) as unknown;
    if (proto === Object.prototype || proto === null) return init as Record<string, string>;
  }
  let h: Headers;
  try {
    h = new Headers(init as HeadersInit);
  } catch {
    // No cause: undici's message quotes the header value, and error text never holds one.
    throw invalidArgument('init.headers', 'a header name or value is not valid');
  }
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}

function checkInit(init: unknown): void {
  if (typeof init !== 'object' || init === null) throw invalidArgument('init', 'must be an object');
  // for-in with an own check rather than Object.keys: no array per call.
  for (const k in init)
    if (!FETCH_INIT_KEYS.has(k) && Object.hasOwn(init, k))
      throw invalidArgument(`init.${k}`, 'unknown option');
}

/**
 * WHATWG `fetch` on rxhttp's own chain (not undici's fetch, which costs about 9× the CPU):
 * builds an {@link XRequest}, runs it with `redirect: 'follow'` by default, and resolves to a
 * real `Response` over the buffered body. A string URL without `init` costs a few µs over
 * `client.request`.
 */
export async function clientFetch(
  input: string | URL | Request,
  init: (RequestInit & CallOptions) | undefined,
  run: (req: XRequest, options: CallOptions) => Promise<XResponse>,
): Promise<Response> {
  if (init !== undefined) checkInit(init);
  let url: string;
  let method = init?.method;
  let headers: XRequest['headers'];
  let body: unknown = init?.body;
  let signal = init?.signal ?? undefined;
  if (typeof input === 'string') url = input;
  else if (input instanceof URL) url = input.href;
  else if (typeof Request !== 'undefined' && input instanceof Request) {
    url = input.url;
    method ??= input.method;
    const fromRequest: Record<string, string> = {};
    input.headers.forEach((v, k) => (fromRequest[k] = v));
    headers = fromRequest;
    if (body === undefined && input.body !== null) body = new Uint8Array(await input.arrayBuffer());
    signal ??= input.signal;
  } else throw invalidArgument('input', 'must be a URL string, URL or Request');
  let options = FOLLOW;
  if (init !== undefined) {
    if (init.headers !== undefined) headers = headersInit(init.headers);
    if (typeof Blob !== 'undefined' && body instanceof Blob) body = new Uint8Array(await body.arrayBuffer());
    // Absent and undefined mean the same to the call: one literal, no spreads.
    options = {
      redirect: init.redirect ?? 'follow',
      signal: signal || undefined,
      retry: init.retry || undefined,
      timeout: init.timeout,
      maxResponseBytes: init.maxResponseBytes,
    } as CallOptions;
  } else if (signal !== undefined) options = { redirect: 'follow', signal };
  const res = await run({ url, method: method ?? 'GET', headers, body: bodyOf(body) } as XRequest, options);
  const bytes = NULL_BODY_STATUSES.has(res.status) ? null : await res.body.bytes();
  return new FetchResponse(res, bytes);
}
