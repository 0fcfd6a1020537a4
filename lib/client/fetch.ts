import { invalidArgument } from '../errors.js';
import type { CallOptions, RequestBody, XRequest, XResponse } from '../types.js';
import { BufferedBody } from '../transport/body.js';
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

/** A fetch as rxhttp runs it: the request and the call's options. */
export interface FetchCall {
  readonly req: XRequest;
  readonly options: CallOptions;
}

/**
 * WHATWG `fetch` arguments as an {@link XRequest} and call options, with `redirect: 'follow'` by
 * default (throws `INVALID_ARGUMENT`). A Promise only when a `Request`'s or a `Blob`'s body must be
 * read first; a string URL without `init` costs next to nothing.
 */
export function fetchCall(
  input: string | URL | Request,
  init: (RequestInit & CallOptions) | undefined,
): FetchCall | Promise<FetchCall> {
  if (init !== undefined) checkInit(init);
  if (typeof input === 'string') return fetchCallOf(input, undefined, undefined, undefined, init);
  if (input instanceof URL) return fetchCallOf(input.href, undefined, undefined, undefined, init);
  if (typeof Request !== 'undefined' && input instanceof Request) {
    const fromRequest: Record<string, string> = {};
    input.headers.forEach((v, k) => (fromRequest[k] = v));
    if (init?.body === undefined && input.body !== null)
      return input
        .arrayBuffer()
        .then((b) =>
          fetchCallOf(input.url, input.method, fromRequest, input.signal, init, new Uint8Array(b)),
        );
    return fetchCallOf(input.url, input.method, fromRequest, input.signal, init);
  }
  throw invalidArgument('input', 'must be a URL string, URL or Request');
}

function fetchCallOf(
  url: string,
  requestMethod: string | undefined,
  requestHeaders: Record<string, string> | undefined,
  requestSignal: AbortSignal | undefined,
  init: (RequestInit & CallOptions) | undefined,
  requestBody?: Uint8Array,
): FetchCall | Promise<FetchCall> {
  if (init === undefined) {
    const options =
      requestSignal === undefined ? FOLLOW : { redirect: 'follow' as const, signal: requestSignal };
    const req = { url, method: requestMethod ?? 'GET', headers: requestHeaders, body: requestBody ?? null };
    return { req: req as XRequest, options };
  }
  const body: unknown = init.body ?? requestBody;
  if (typeof Blob !== 'undefined' && body instanceof Blob)
    return body
      .arrayBuffer()
      .then((b) =>
        fetchCallOf(url, requestMethod, requestHeaders, requestSignal, { ...init, body: new Uint8Array(b) }),
      );
  const signal = init.signal ?? requestSignal;
  // Absent and undefined mean the same to the call: one literal, no spreads.
  const options = {
    redirect: init.redirect ?? 'follow',
    signal: signal || undefined,
    retry: init.retry || undefined,
    timeout: init.timeout,
    maxResponseBytes: init.maxResponseBytes,
  } as CallOptions;
  const req = {
    url,
    method: init.method ?? requestMethod ?? 'GET',
    headers: init.headers !== undefined ? headersInit(init.headers) : requestHeaders,
    body: bodyOf(body),
  };
  return { req: req as XRequest, options };
}

/**
 * The `Response` over a call's answer: a buffered body (the usual case) is handed over without a
 * Promise; a streamed one (`responseType: 'stream'`) is read in full first. `url` and `redirected`
 * come from the hop that answered.
 */
export function toFetchResponse(
  res: XResponse,
  hop: { readonly url: string | undefined; readonly hop: number; readonly spec: { readonly method: string } },
): Response | Promise<Response> {
  const url = hop.url ?? '';
  const redirected = hop.hop > 0;
  // As fetch: no body for a null-body status, nor for the answer to a HEAD request.
  if (NULL_BODY_STATUSES.has(res.status) || hop.spec.method === 'HEAD')
    return new FetchResponse(res, null, url, redirected);
  const body = res.body;
  if (!(body instanceof BufferedBody))
    return body.bytes().then((bytes) => new FetchResponse(res, bytes, url, redirected));
  body.bodyUsed = true;
  return new FetchResponse(res, body.buffer, url, redirected);
}
