import { invalidArgument } from '../errors.js';
import { checkOptions, optionalPositiveDuration, optionalPositiveInt } from '../internal/validate.js';
import { resolveRetryOptions, type ResolvedRetry } from '../resilience/retry-policy.js';
import type { CallOptions, GroupLike, RequestBody, XRequest } from '../types.js';
import { acceptEncoding } from '../transport/decode.js';
import { addHeaders, isToken } from './headers.js';

/** Everything a call needs, validated once before the chain starts. */
export interface CallSpec {
  readonly request: XRequest;
  readonly group: GroupLike;
  readonly method: string;
  /** Path and query, as sent. */
  readonly target: string;
  /** Path alone: what events, metrics and traces may see. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | null;
  readonly stream: boolean;
  /** Stream mode: the call's deadline runs until the body ends (else it stops at headers). */
  readonly deadlineCoversBody: boolean;
  readonly maxResponseBytes: number;
  readonly timeout: number;
  readonly retry: ResolvedRetry | undefined;
  readonly signal: AbortSignal | undefined;
  readonly redirect: 'manual' | 'follow' | 'error';
  /** Undo `content-encoding` (and ask for it with `accept-encoding`). */
  readonly decompress: boolean;
}

const OPTION_KEYS = [
  'retry',
  'timeout',
  'signal',
  'headers',
  'responseType',
  'maxResponseBytes',
  'redirect',
  'deadlineCoversBody',
  'decompress',
];
const REQUEST_KEYS = ['method', 'group', 'url', 'path', 'query', 'headers', 'body'];
// Path: no controls, no spaces, no fragment; anything else must already be percent-encoded.
const PATH = /^\/[\x21-\x22\x24-\x7e]*$/;
const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']);

/** Defaults from the client that a call falls back on. */
export interface CallDefaults {
  readonly requestTimeout: number;
  readonly maxResponseBytes: number;
  /** Validated and frozen: calls without headers of their own share it. */
  readonly headers: Readonly<Record<string, string>>;
  readonly redirect: 'manual' | 'follow' | 'error';
}

/** The client's shared headers with fetch's `accept-encoding` added (unless set), per protocol. */
const withAcceptEncoding = new WeakMap<
  object,
  { http: Readonly<Record<string, string>>; https: Readonly<Record<string, string>> }
>();

/** The headers every decoding call starts from: built once per client headers record, frozen. */
function decodingHeaders(
  base: Readonly<Record<string, string>>,
  protocol: 'http' | 'https',
): Readonly<Record<string, string>> {
  if (base['accept-encoding'] !== undefined) return base;
  let pair = withAcceptEncoding.get(base);
  if (pair === undefined) {
    const make = (p: 'http' | 'https'): Readonly<Record<string, string>> =>
      Object.freeze(
        Object.assign(Object.create(null) as Record<string, string>, base, {
          'accept-encoding': acceptEncoding(p),
        }),
      );
    pair = { http: make('http'), https: make('https') };
    withAcceptEncoding.set(base, pair);
  }
  return pair[protocol];
}

/** `x[key]` when `x` has it as an own property; never read through the prototype chain. */
function own<T extends object, K extends keyof T>(x: T | undefined, key: K): T[K] | undefined {
  if (x === undefined) return undefined;
  const v = x[key];
  // An absent key (the common case) is settled by the read alone; only a value needs the own check.
  return v !== undefined && Object.hasOwn(x, key) ? v : undefined;
}

/** Validates a method: an RFC 9110 token; the standard ones are upper-cased. */
export function normalizeMethod(method: unknown): string {
  if (method === undefined) return 'GET';
  if (typeof method !== 'string' || !isToken(method))
    throw invalidArgument('method', 'must be an HTTP token');
  const upper = method.toUpperCase();
  if (upper === 'CONNECT') throw invalidArgument('method', 'CONNECT is not supported');
  return STANDARD_METHODS.has(upper) ? upper : method;
}

/** Validates a path (must start with '/', no CR/LF, spaces or fragment). */
export function checkPath(path: unknown, field = 'path'): string {
  if (typeof path !== 'string' || path.length > 65_536) throw invalidArgument(field, 'must be a string');
  const qi = path.indexOf('?');
  const p = qi < 0 ? path : path.slice(0, qi);
  if (!PATH.test(p))
    throw invalidArgument(field, "must start with '/' and hold no spaces, control characters or '#'");
  if (qi >= 0 && !/^[\x21-\x22\x24-\x7e]*$/.test(path.slice(qi + 1)))
    throw invalidArgument(field, 'query holds spaces, control characters or #');
  return path;
}

function appendQuery(target: string, query: XRequest['query']): string {
  if (query === undefined) return target;
  let params: URLSearchParams;
  if (query instanceof URLSearchParams) params = query;
  else if (typeof query === 'object' && query !== null) {
    params = new URLSearchParams();
    for (const k of Object.keys(query)) {
      const v = (query as Record<string, unknown>)[k];
      const values = Array.isArray(v) ? v : [v];
      for (const x of values) {
        if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean')
          throw invalidArgument('query', 'values must be strings, numbers or booleans');
        params.append(k, String(x));
      }
    }
  } else throw invalidArgument('query', 'must be an object or URLSearchParams');
  const qs = params.toString();
  if (qs === '') return target;
  return target + (target.includes('?') ? '&' : '?') + qs;
}

function normalizeBody(
  body: RequestBody | undefined,
  headers: Record<string, string>,
): string | Uint8Array | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  throw invalidArgument('body', 'must be a string, Uint8Array, URLSearchParams or null');
}

/**
 * Turns a request and call options into a {@link CallSpec}, or throws `INVALID_ARGUMENT`
 * naming the field. `group` and `target` were resolved by the client (registered names, urls).
 */
export function buildCallSpec(
  request: XRequest,
  group: GroupLike,
  target: string,
  options: CallOptions | undefined,
  defaults: CallDefaults,
): CallSpec {
  checkOptions(request, REQUEST_KEYS, 'request');
  checkOptions(options, OPTION_KEYS, 'options');
  // Own properties only: a polluted Object.prototype (say `redirect: 'follow'`) must not reach a call.
  const o = {
    retry: own(options, 'retry'),
    timeout: own(options, 'timeout'),
    signal: own(options, 'signal'),
    headers: own(options, 'headers'),
    responseType: own(options, 'responseType'),
    maxResponseBytes: own(options, 'maxResponseBytes'),
    redirect: own(options, 'redirect'),
    deadlineCoversBody: own(options, 'deadlineCoversBody'),
    decompress: own(options, 'decompress'),
  };
  if (o.decompress !== undefined && typeof o.decompress !== 'boolean')
    throw invalidArgument('options.decompress', 'must be a boolean');
  const decompress = o.decompress !== false;
  const baseHeaders = decompress ? decodingHeaders(defaults.headers, group.protocol) : defaults.headers;
  const rawMethod = own(request, 'method');
  const method = rawMethod === 'GET' ? 'GET' : normalizeMethod(rawMethod);
  const url = own(request, 'url');
  checkPath(target, url !== undefined ? 'url' : 'path');
  const query = own(request, 'query');
  const full = appendQuery(target, query);
  const qi = full.indexOf('?');
  const requestHeaders = own(request, 'headers');
  const rawBody = own(request, 'body');
  // Without headers of its own (most calls), a call shares the client's validated, frozen record.
  const headers =
    requestHeaders === undefined && o.headers === undefined && !(rawBody instanceof URLSearchParams)
      ? baseHeaders
      : Object.assign(Object.create(null) as Record<string, string>, baseHeaders);
  if (headers !== baseHeaders) {
    addHeaders(headers, requestHeaders, 'headers');
    addHeaders(headers, o.headers, 'options.headers');
  }
  const body = normalizeBody(rawBody, headers);
  if (body !== null && (method === 'GET' || method === 'HEAD'))
    throw invalidArgument('body', `a ${method} request has no body`);
  if (o.responseType !== undefined && o.responseType !== 'buffered' && o.responseType !== 'stream')
    throw invalidArgument('options.responseType', "must be 'buffered' or 'stream'");
  if (o.deadlineCoversBody !== undefined && typeof o.deadlineCoversBody !== 'boolean')
    throw invalidArgument('options.deadlineCoversBody', 'must be a boolean');
  if (
    o.redirect !== undefined &&
    o.redirect !== 'manual' &&
    o.redirect !== 'follow' &&
    o.redirect !== 'error'
  )
    throw invalidArgument('options.redirect', "must be 'manual', 'follow' or 'error'");
  if (
    o.signal !== undefined &&
    (typeof o.signal !== 'object' || o.signal === null || typeof o.signal.addEventListener !== 'function')
  )
    throw invalidArgument('options.signal', 'must be an AbortSignal');
  const path = qi < 0 ? full : full.slice(0, qi);
  return {
    // Breaker keys and classifiers see the normalized method and the path without its query.
    request: {
      method,
      group: own(request, 'group'),
      url,
      path,
      query,
      headers: requestHeaders,
      body: rawBody,
    } as XRequest,
    group,
    method,
    target: full,
    path,
    headers,
    body,
    stream: o.responseType === 'stream',
    deadlineCoversBody: o.deadlineCoversBody !== false,
    maxResponseBytes:
      optionalPositiveInt(o.maxResponseBytes, 'options.maxResponseBytes') ?? defaults.maxResponseBytes,
    timeout: optionalPositiveDuration(o.timeout, 'options.timeout') ?? defaults.requestTimeout,
    retry: resolveRetryOptions(o.retry, 'options.retry'),
    signal: o.signal,
    redirect: o.redirect ?? defaults.redirect,
    decompress,
  };
}
