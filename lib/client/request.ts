import { invalidArgument } from '../errors.js';
import { optionalPositiveDuration, optionalPositiveInt } from '../internal/validate.js';
import { resolveHedge, type ResolvedHedge } from '../resilience/hedge.js';
import { isIdempotent, resolveRetryOptions, type ResolvedRetry } from '../resilience/retry-policy.js';
import type { CallOptions, GroupLike, XRequest } from '../types.js';
import { acceptEncoding } from '../transport/decode.js';
import { capByDeadline } from './deadline.js';
import { addHeaders, isToken } from './headers.js';
import { checkTarget } from './path.js';
import { jsonBody, normalizeBody, OnceBody, type SendBody } from './request-body.js';

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
  /** A {@link OnceBody} (stream, async iterable) can be sent once; the rest on every attempt. */
  readonly body: SendBody;
  /** The body when it can be sent once only (the retry decision reads whether it has started). */
  readonly once: OnceBody | undefined;
  readonly stream: boolean;
  /** Stream mode: the call's deadline runs until the body ends (else it stops at headers). */
  readonly deadlineCoversBody: boolean;
  readonly maxResponseBytes: number;
  readonly timeout: number;
  readonly retry: ResolvedRetry | undefined;
  readonly signal: AbortSignal | undefined;
  readonly redirect: 'manual' | 'follow' | 'error';
  /**
   * The call's deadline on the client's clock when it is set already: a redirect hop keeps the
   * first call's. Undefined for a new call (its deadline is its start plus `timeout`).
   */
  readonly deadlineAt: number | undefined;
  /** Undo `content-encoding` (and ask for it with `accept-encoding`). */
  readonly decompress: boolean;
  /**
   * Hedging for this call: the call's `hedge` option or the client's; undefined when neither, when
   * the method is not idempotent (unless `nonIdempotent`), or when the body can be sent once.
   */
  readonly hedge: ResolvedHedge | undefined;
}

const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']);

/** Defaults from the client that a call falls back on. */
export interface CallDefaults {
  readonly requestTimeout: number;
  readonly maxResponseBytes: number;
  /** Validated and frozen: calls without headers of their own share it. */
  readonly headers: Readonly<Record<string, string>>;
  readonly redirect: 'manual' | 'follow' | 'error';
  /** The client's `hedge` option, validated; undefined: calls are not hedged unless they ask. */
  readonly hedge?: ResolvedHedge | undefined;
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

/** Validates a method: an RFC 9110 token; the standard ones are upper-cased. */
export function normalizeMethod(method: unknown): string {
  if (method === undefined) return 'GET';
  if (typeof method !== 'string' || !isToken(method))
    throw invalidArgument('method', 'must be an HTTP token');
  const upper = method.toUpperCase();
  if (upper === 'CONNECT') throw invalidArgument('method', 'CONNECT is not supported');
  return STANDARD_METHODS.has(upper) ? upper : method;
}

/**
 * Validates a path (must start with '/', no controls or fragment) and percent-encodes its spaces
 * and non-ASCII characters; see {@link checkTarget}.
 */
export function checkPath(path: unknown, field = 'path'): string {
  return checkTarget(path, field);
}

function appendQuery(target: string, query: XRequest['query'], field = 'query'): string {
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
          throw invalidArgument(field, 'values must be strings, numbers or booleans');
        params.append(k, String(x));
      }
    }
  } else throw invalidArgument(field, 'must be an object or URLSearchParams');
  const qs = params.toString();
  if (qs === '') return target;
  return target + (target.includes('?') ? '&' : '?') + qs;
}

/** A request's fields, own enumerable properties only (a polluted `Object.prototype` must not reach a call). */
interface RequestFields {
  method: unknown;
  group: XRequest['group'] | undefined;
  url: string | undefined;
  path: unknown;
  query: XRequest['query'] | undefined;
  headers: XRequest['headers'] | undefined;
  body: XRequest['body'] | undefined;
}

/** Call options' fields, own enumerable properties only. */
interface OptionFields {
  retry: CallOptions['retry'];
  timeout: unknown;
  signal: AbortSignal | undefined;
  headers: CallOptions['headers'];
  responseType: unknown;
  maxResponseBytes: unknown;
  redirect: CallOptions['redirect'];
  deadlineCoversBody: unknown;
  query: XRequest['query'] | undefined;
  decompress: unknown;
  hedge: CallOptions['hedge'];
  body: XRequest['body'] | undefined;
  json: unknown;
}

function notAnObject(value: unknown): boolean {
  return typeof value !== 'object' || value === null || Array.isArray(value);
}

/**
 * Reads a request in one pass over its keys (this runs on every call): its own fields, and
 * `INVALID_ARGUMENT` for a key it does not know. Inherited keys are skipped, undefined means absent.
 */
function readRequest(request: XRequest): RequestFields {
  if (notAnObject(request)) throw invalidArgument('request', 'must be an object');
  const r: RequestFields = {
    method: undefined,
    group: undefined,
    url: undefined,
    path: undefined,
    query: undefined,
    headers: undefined,
    body: undefined,
  };
  for (const key in request) {
    if (!Object.hasOwn(request, key)) continue;
    const v = (request as unknown as Record<string, unknown>)[key];
    switch (key) {
      case 'method':
        r.method = v;
        break;
      case 'group':
        r.group = v as RequestFields['group'];
        break;
      case 'url':
        r.url = v as string | undefined;
        break;
      case 'path':
        r.path = v;
        break;
      case 'query':
        r.query = v as RequestFields['query'];
        break;
      case 'headers':
        r.headers = v as RequestFields['headers'];
        break;
      case 'body':
        r.body = v as RequestFields['body'];
        break;
      default:
        throw invalidArgument(`request.${key}`, 'unknown option');
    }
  }
  return r;
}

/** Reads call options as {@link readRequest} reads a request: one pass, own keys, unknown ones refused. */
function readOptions(options: CallOptions | undefined): OptionFields {
  const o: OptionFields = {
    retry: undefined,
    timeout: undefined,
    signal: undefined,
    headers: undefined,
    responseType: undefined,
    maxResponseBytes: undefined,
    redirect: undefined,
    deadlineCoversBody: undefined,
    query: undefined,
    decompress: undefined,
    hedge: undefined,
    body: undefined,
    json: undefined,
  };
  if (options === undefined) return o;
  if (notAnObject(options)) throw invalidArgument('options', 'must be an object');
  for (const key in options) {
    if (!Object.hasOwn(options, key)) continue;
    const v = (options as unknown as Record<string, unknown>)[key] as never;
    switch (key) {
      case 'retry':
        o.retry = v;
        break;
      case 'timeout':
        o.timeout = v;
        break;
      case 'signal':
        o.signal = v;
        break;
      case 'headers':
        o.headers = v;
        break;
      case 'responseType':
        o.responseType = v;
        break;
      case 'maxResponseBytes':
        o.maxResponseBytes = v;
        break;
      case 'redirect':
        o.redirect = v;
        break;
      case 'deadlineCoversBody':
        o.deadlineCoversBody = v;
        break;
      case 'query':
        o.query = v;
        break;
      case 'decompress':
        o.decompress = v;
        break;
      case 'hedge':
        o.hedge = v;
        break;
      case 'body':
        o.body = v;
        break;
      case 'json':
        o.json = v;
        break;
      default:
        throw invalidArgument(`options.${key}`, 'unknown option');
    }
  }
  return o;
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
  const r = readRequest(request);
  const o = readOptions(options);
  if (o.decompress !== undefined && typeof o.decompress !== 'boolean')
    throw invalidArgument('options.decompress', 'must be a boolean');
  const decompress = o.decompress !== false;
  const baseHeaders = decompress ? decodingHeaders(defaults.headers, group.protocol) : defaults.headers;
  const rawMethod = r.method;
  const method = rawMethod === 'GET' ? 'GET' : normalizeMethod(rawMethod);
  const url = r.url;
  let sent = checkPath(target, url !== undefined ? 'url' : 'path');
  // A group's base path prefixes the paths given with it, never a url (nor a redirect's target).
  const groupBase = url === undefined ? group.basePath : undefined;
  if (groupBase) sent = groupBase + sent;
  const query = r.query;
  let full = appendQuery(sent, query);
  if (o.query !== undefined) full = appendQuery(full, o.query, 'options.query');
  const qi = full.indexOf('?');
  const requestHeaders = r.headers;
  let rawBody = r.body;
  const optionBody = o.body;
  const json = o.json;
  if (optionBody !== undefined || json !== undefined) {
    if ((rawBody !== undefined && rawBody !== null) || (optionBody !== undefined && json !== undefined))
      throw invalidArgument(json !== undefined ? 'options.json' : 'options.body', 'give one body');
    rawBody = json !== undefined ? jsonBody(json, 'options.json') : optionBody;
  }
  const groupHeaders = group.headers;
  // Without headers of its own (most calls), a call shares the client's validated, frozen record.
  const headers =
    requestHeaders === undefined &&
    o.headers === undefined &&
    groupHeaders === undefined &&
    json === undefined &&
    !(rawBody instanceof URLSearchParams)
      ? baseHeaders
      : Object.assign(Object.create(null) as Record<string, string>, baseHeaders);
  if (headers !== baseHeaders) {
    // Client < group < request < call: the nearer the call, the more it wins.
    if (groupHeaders !== undefined) Object.assign(headers, groupHeaders);
    addHeaders(headers, requestHeaders, 'headers');
    addHeaders(headers, o.headers, 'options.headers');
    if (json !== undefined) (headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const bodyField = json !== undefined ? 'options.json' : optionBody !== undefined ? 'options.body' : 'body';
  const body = normalizeBody(rawBody, headers, bodyField);
  if (body !== null && (method === 'GET' || method === 'HEAD'))
    throw invalidArgument(bodyField, `a ${method} request has no body`);
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
  const hedgeOption = o.hedge === undefined ? defaults.hedge : resolveHedge(o.hedge, 'options.hedge');
  // A body that can be sent once cannot go to two hosts; a POST is hedged only when the caller says so.
  const hedge =
    hedgeOption === undefined ||
    hedgeOption === false ||
    hedgeOption.maxAttempts < 2 ||
    body instanceof OnceBody ||
    (!hedgeOption.nonIdempotent && !isIdempotent(method))
      ? undefined
      : hedgeOption;
  return {
    // Breaker keys and classifiers see the normalized method and the path without its query.
    request: {
      method,
      group: r.group,
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
    once: body instanceof OnceBody ? body : undefined,
    stream: o.responseType === 'stream',
    deadlineCoversBody: o.deadlineCoversBody !== false,
    maxResponseBytes:
      optionalPositiveInt(o.maxResponseBytes, 'options.maxResponseBytes') ?? defaults.maxResponseBytes,
    // Made while handling a request with a deadline (withDeadline, rxhttp/nest): no longer than it.
    timeout: capByDeadline(optionalPositiveDuration(o.timeout, 'options.timeout') ?? defaults.requestTimeout),
    retry: resolveRetryOptions(o.retry, 'options.retry'),
    signal: o.signal,
    redirect: o.redirect ?? defaults.redirect,
    deadlineAt: undefined,
    decompress,
    hedge,
  };
}
