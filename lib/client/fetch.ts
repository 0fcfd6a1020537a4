import { invalidArgument } from '../errors.js';
import type { CallOptions, XRequest, XResponse } from '../types.js';

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

async function bodyOf(body: unknown): Promise<string | Uint8Array | URLSearchParams | null> {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (typeof Blob !== 'undefined' && body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  throw invalidArgument(
    'init.body',
    'streams and FormData are not supported; pass a string, bytes or URLSearchParams',
  );
}

/**
 * WHATWG `fetch` on rxhttp's own chain (not undici's fetch, which costs about 9× the CPU):
 * builds an {@link XRequest}, runs it with `redirect: 'follow'` by default, and wraps the
 * buffered response in a real `Response`.
 */
export async function clientFetch(
  input: string | URL | Request,
  init: (RequestInit & CallOptions) | undefined,
  run: (req: XRequest, options: CallOptions) => Promise<XResponse>,
): Promise<Response> {
  let url: string;
  let method = init?.method;
  let headers: Record<string, string> = {};
  let body: unknown = init?.body;
  let signal = init?.signal ?? undefined;
  if (typeof input === 'string') url = input;
  else if (input instanceof URL) url = input.href;
  else if (typeof Request !== 'undefined' && input instanceof Request) {
    url = input.url;
    method ??= input.method;
    input.headers.forEach((v, k) => (headers[k] = v));
    if (body === undefined && input.body !== null) body = new Uint8Array(await input.arrayBuffer());
    signal ??= input.signal;
  } else throw invalidArgument('input', 'must be a URL string, URL or Request');
  if (init !== undefined) {
    if (typeof init !== 'object' || init === null) throw invalidArgument('init', 'must be an object');
    for (const k of Object.keys(init))
      if (!FETCH_INIT_KEYS.has(k)) throw invalidArgument(`init.${k}`, 'unknown option');
    if (init.headers !== undefined) {
      const h = new Headers(init.headers as HeadersInit);
      headers = {};
      h.forEach((v, k) => (headers[k] = v));
    }
  }
  const options: CallOptions = {
    redirect: init?.redirect ?? 'follow',
    ...(signal ? { signal } : {}),
    ...(init?.retry ? { retry: init.retry } : {}),
    ...(init?.timeout !== undefined ? { timeout: init.timeout } : {}),
    ...(init?.maxResponseBytes !== undefined ? { maxResponseBytes: init.maxResponseBytes } : {}),
  };
  const res = await run({ url, method: method ?? 'GET', headers, body: await bodyOf(body) }, options);
  const responseHeaders = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const x of v) responseHeaders.append(k, x);
    else responseHeaders.append(k, v);
  }
  const bytes = NULL_BODY_STATUSES.has(res.status) ? null : await res.body.bytes();
  return new Response(bytes as BodyInit | null, {
    status: res.status,
    statusText: res.statusText,
    headers: responseHeaders,
  });
}
