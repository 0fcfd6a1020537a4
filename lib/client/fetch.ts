import { invalidArgument, XhttpError } from '../errors.js';
import type { CallOptions, RequestBody, XRequest, XResponse } from '../types.js';
import { BufferedBody } from '../transport/body.js';
import { FetchResponse, streamingResponse } from './fetch-response.js';

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
/** The options of a call without `init`: shared, never written. */
const FOLLOW: CallOptions = Object.freeze({ redirect: 'follow' });
/** A request body as the call layer takes it, or `INVALID_ARGUMENT`; other `BodyInit`s were read to bytes before. */
function bodyOf(body: unknown): RequestBody {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw invalidArgument(
    'init.body',
    'must be a BodyInit: string, bytes, Blob, FormData, URLSearchParams or ReadableStream',
  );
}

/** A body that fetch serializes itself (its bytes and, for some, a content type): read through `Response`. */
function needsExtraction(body: unknown): body is Blob | FormData | ReadableStream {
  return (
    (typeof Blob !== 'undefined' && body instanceof Blob) ||
    (typeof FormData !== 'undefined' && body instanceof FormData) ||
    (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)
  );
}

/** True when a header record names `name` (lower case), in any case. */
function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  if (headers === undefined) return false;
  for (const k in headers) if (k.toLowerCase() === name) return true;
  return false;
}

/** `headers` with `content-type` set as fetch sets it for the body, unless the caller set one: never written in place. */
function withContentType(
  headers: Record<string, string> | undefined,
  type: string | null,
): Record<string, string> | undefined {
  if (type === null || type === '' || hasHeader(headers, 'content-type')) return headers;
  return { ...headers, 'content-type': type };
}

const TEXT_PLAIN = 'text/plain;charset=UTF-8';

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

/**
 * `init` must be an object; other keys than fetch's and ours are ignored, as fetch ignores them:
 * libraries pass their own options through (ofetch its `baseURL`, `retry` count, hooks).
 */
function checkInit(init: unknown): void {
  if (typeof init !== 'object' || init === null) throw invalidArgument('init', 'must be an object');
}

/**
 * `client.fetch`'s `init`: everything the DOM lib types as `RequestInit` (`signal: null`, every
 * `BodyInit`, `duplex`) and rxhttp's {@link CallOptions} beside it.
 */
export type FetchInit = RequestInit &
  Omit<CallOptions, 'signal' | 'headers' | 'redirect'> & { duplex?: 'half' };

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
  input: RequestInfo | URL,
  init: FetchInit | undefined,
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
        .then((b) => fetchCallOf(input.url, input.method, fromRequest, input, init, new Uint8Array(b)));
    return fetchCallOf(input.url, input.method, fromRequest, input, init);
  }
  throw invalidArgument('input', 'must be a URL string, URL or Request');
}

function fetchCallOf(
  url: string,
  requestMethod: string | undefined,
  requestHeaders: Record<string, string> | undefined,
  request: Request | undefined,
  init: FetchInit | undefined,
  requestBody?: Uint8Array,
): FetchCall | Promise<FetchCall> {
  if (init === undefined) {
    // A Request brings its own signal and redirect mode, as it does to fetch.
    const options: CallOptions =
      request === undefined ? FOLLOW : { redirect: request.redirect, signal: request.signal };
    const req = { url, method: requestMethod ?? 'GET', headers: requestHeaders, body: requestBody ?? null };
    return { req: req as XRequest, options };
  }
  const body: unknown = init.body ?? requestBody;
  if (needsExtraction(body)) {
    if (body instanceof ReadableStream && (init as { duplex?: unknown }).duplex !== 'half')
      throw invalidArgument(
        'init.duplex',
        "must be 'half' when the body is a ReadableStream, as fetch requires",
      );
    // fetch's own serialization (a FormData's multipart boundary, a Blob's type), read in full:
    // the call sends bytes it can resend on a retry.
    const extracted = new Response(body);
    const type = extracted.headers.get('content-type');
    return extracted.arrayBuffer().then((b) => {
      const headers = withContentType(
        init.headers !== undefined ? headersInit(init.headers) : requestHeaders,
        type,
      );
      return fetchCallOf(url, requestMethod, undefined, request, {
        ...init,
        headers: headers ?? {},
        body: new Uint8Array(b),
      });
    });
  }
  const signal = init.signal ?? request?.signal;
  // Absent and undefined mean the same to the call: one literal, no spreads.
  const options = {
    redirect: init.redirect ?? request?.redirect ?? 'follow',
    signal: signal || undefined,
    // A `retry` that is no object is a library's own (ofetch's count), not a retry policy of ours.
    retry: typeof init.retry === 'object' && init.retry !== null ? init.retry : undefined,
    timeout: init.timeout,
    maxResponseBytes: init.maxResponseBytes,
    responseType: init.responseType,
    decompress: init.decompress,
    deadlineCoversBody: init.deadlineCoversBody,
  } as CallOptions;
  let headers = init.headers !== undefined ? headersInit(init.headers) : requestHeaders;
  // As fetch: a string body is text/plain unless the caller says otherwise.
  if (typeof body === 'string') headers = withContentType(headers, TEXT_PLAIN);
  const req = {
    url,
    method: init.method ?? requestMethod ?? 'GET',
    headers,
    body: bodyOf(body),
  };
  return { req: req as XRequest, options };
}

/**
 * The `Response` over a call's answer: a buffered body (the usual case) is handed over without a
 * Promise; a streamed one (`responseType: 'stream'`) streams, as fetch's does. `url` and `redirected`
 * come from the hop that answered.
 */
export function toFetchResponse(
  res: XResponse,
  hop: {
    readonly url: string | undefined;
    readonly hop: number;
    readonly spec: { readonly method: string; readonly signal: AbortSignal | undefined };
  },
): Response | Promise<Response> {
  const url = hop.url ?? '';
  const redirected = hop.hop > 0;
  // As fetch: no body for a null-body status, nor for the answer to a HEAD request.
  if (NULL_BODY_STATUSES.has(res.status) || hop.spec.method === 'HEAD')
    return new FetchResponse(res, null, url, redirected);
  const body = res.body;
  if (!(body instanceof BufferedBody)) return streamingResponse(res, url, redirected, hop.spec.signal);
  body.bodyUsed = true;
  return new FetchResponse(res, body.buffer, url, redirected);
}

/**
 * A bad argument as fetch reports one: a `TypeError` with our message, the `INVALID_ARGUMENT` error
 * its cause. Used for what is refused before anything is sent, which fetch checks before the signal.
 */
export function fetchArgumentError(err: unknown): unknown {
  return err instanceof XhttpError ? new TypeError(err.message, { cause: err }) : err;
}

/**
 * A rejection as fetch's, once the call has started: an abort is the signal's `reason` (a
 * `DOMException` named `AbortError` unless the caller gave one); any other failure (a redirect
 * refused on the way included) a `TypeError('fetch failed')` whose `cause` is the `XhttpError`
 * (`code`, `address`, `attempts` stay reachable). An argument error already made a `TypeError` stays.
 */
export function fetchError(err: unknown, signal: AbortSignal | null | undefined): unknown {
  if (err instanceof TypeError) return err;
  if (signal?.aborted === true) return signal.reason;
  return err instanceof XhttpError ? new TypeError('fetch failed', { cause: err }) : err;
}

/** The signal a fetch call listens to: `init.signal` wins over a `Request`'s own. */
export function fetchSignal(
  input: unknown,
  init: { readonly signal?: AbortSignal | null } | undefined,
): AbortSignal | null | undefined {
  if (init?.signal != null) return init.signal;
  return typeof Request !== 'undefined' && input instanceof Request ? input.signal : undefined;
}
