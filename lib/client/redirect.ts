import { Observable, type Unsubscribable } from 'rxjs';
import { XhttpError } from '../errors.js';
import { BufferedBody } from '../transport/body.js';
import type { GroupLike, XResponse } from '../types.js';
import type { CallSink } from './call.js';
import type { CallSpec } from './request.js';

/** Most hops a call follows, as WHATWG fetch. */
export const MAX_REDIRECTS = 20;
/** Headers that must not follow a redirect to another origin. */
export const CROSS_ORIGIN_STRIPPED = ['authorization', 'cookie', 'proxy-authorization'];
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const SENTINEL = 'http://rxhttp.invalid';

/** A hop's call as the chain needs it: its deadline (shared by the hops after it) and its cancel. */
export interface HopCall extends Unsubscribable {
  readonly deadlineAt: number;
}

/** Starts one call of a hop, reporting to `sink` (the client's `startCall` on its runtime). */
export type StartHop = (spec: CallSpec, sink: CallSink) => HopCall;

/** Finds the group and target of an absolute URL (the client's routing). */
export type Route = (url: string) => { group: GroupLike; target: string };


/**
 * The one redirect loop, for every API (`request$`, `request()`, `client.fetch`): follows 3xx
 * responses (`redirect: 'follow'`), turns them into errors (`'error'`) or answers with them
 * (`'manual'`). Each hop is a call of its own (pick, retry, breaker), reporting to this object; the
 * hops share the first call's deadline, what is left of its retry attempts and of its
 * `maxResponseBytes` (the redirect bodies count), so a chain is bounded as one call is. Crossing
 * to another group drops Authorization, Cookie and Proxy-Authorization; 303 (and 301/302 after
 * POST) become GET. One object per call, however many hops.
 */
export class RedirectChain<T> implements CallSink, Unsubscribable {
  /** This hop's spec. */
  spec: CallSpec;
  /** Redirects followed before this hop: 0 for the first request. */
  hop = 0;
  /** This hop's absolute URL when the call was made by URL (fetch's `res.url`), else undefined. */
  url: string | undefined;
  #call: HopCall | undefined;
  #cancelled = false;
  #starting = false;

  constructor(
    spec: CallSpec,
    url: string | undefined,
    readonly start: StartHop,
    readonly route: Route,
    readonly finish: (res: XResponse, chain: RedirectChain<T>) => T | PromiseLike<T>,
    /** Takes the chain's one answer: the value `finish` made of the last response. */
    readonly resolve: (value: T | PromiseLike<T>) => void,
    readonly reject: (error: unknown) => void,
    /** For a Promise: a failure inside the first start() is rejected a microtask later. */
    readonly deferSyncError = false,
  ) {
    this.spec = spec;
    this.url = url;
  }

  /** Starts the first hop. */
  run(): this {
    this.#starting = this.deferSyncError;
    this.#call = this.start(this.spec, this);
    this.#starting = false;
    return this;
  }

  /** Cancels the hop in flight (its call reports nothing after this). */
  unsubscribe(): void {
    this.#cancelled = true;
    this.#call?.unsubscribe();
  }

  next(res: XResponse): void {
    let next: CallSpec | undefined;
    try {
      next = nextHop(this.spec, res, this.hop, this.route, this.#call!.deadlineAt);
      if (next === undefined) {
        this.resolve(this.finish(res, this));
        return;
      }
      // nextHop parsed the location already; this URL is only what a fetch Response reports.
      if (this.url !== undefined) this.url = new URL(res.headers['location'] as string, this.url).href;
    } catch (error) {
      // Nothing thrown here may reach the Call that reported: it settles this chain instead.
      this.reject(error);
      return;
    }
    if (this.#cancelled) return;
    this.spec = next;
    this.hop++;
    this.#call = this.start(next, this);
  }

  error(error: XhttpError): void {
    // A call that fails inside start() (fail fast, no address) would reject before the caller could
    // attach a handler; Node's unhandled-rejection tracking costs more than the fail fast itself.
    if (this.#starting) queueMicrotask(() => this.reject(error));
    else this.reject(error);
  }

  complete(): void {}
}

/** Runs `spec` and its redirect hops as a cold Observable; unsubscribing cancels the hop in flight. */
export function redirect$(spec: CallSpec, start: StartHop, route: Route): Observable<XResponse> {
  return new Observable<XResponse>((subscriber) =>
    new RedirectChain<XResponse>(
      spec,
      undefined,
      start,
      route,
      sameResponse,
      (value) => {
        // sameResponse never makes a Promise; a thenable would be a bug in finish, handled anyway.
        if (isThenable(value)) value.then((v) => (subscriber.next(v), subscriber.complete()), subscriber.error);
        else {
          subscriber.next(value);
          subscriber.complete();
        }
      },
      (error) => subscriber.error(error),
    ).run(),
  );
}

/** Runs `spec` and its redirect hops; resolves to `finish` of the answer. `url`: the first hop's, if by URL. */
export function redirectPromise<T>(
  spec: CallSpec,
  start: StartHop,
  route: Route,
  finish: (res: XResponse, chain: RedirectChain<T>) => T | PromiseLike<T>,
  url?: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    new RedirectChain(spec, url, start, route, finish, resolve, reject, true).run();
  });
}

function sameResponse(res: XResponse): XResponse {
  return res;
}

function isThenable<T>(x: T | PromiseLike<T>): x is PromiseLike<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

/**
 * The spec of the next hop after `res` (the `n`-th response of the call), or undefined when `res`
 * is the answer (always under `redirect: 'manual'`). Throws `PROTOCOL` for a redirect under
 * `redirect: 'error'` or past {@link MAX_REDIRECTS}, `RESPONSE_TOO_LARGE` when the redirect bodies
 * used up `maxResponseBytes`. `deadlineAt`: the chain's, from its first call.
 */
function nextHop(
  s: CallSpec,
  res: XResponse,
  n: number,
  route: Route,
  deadlineAt: number,
): CallSpec | undefined {
  // The status first: most responses are not redirects, and reading headers parses them.
  if (!REDIRECT_STATUSES.has(res.status) || s.redirect === 'manual') return undefined;
  const location = res.headers['location'];
  if (typeof location !== 'string') return undefined;
  // A buffered body has been counted against maxResponseBytes already; a streamed one is dropped unread.
  const bodyBytes = bufferedLength(res.body);
  void res.body.dump();
  if (s.redirect === 'error')
    throw new XhttpError('PROTOCOL', `redirect (${res.status}) not allowed`, { attempts: res.attempts });
  if (n >= MAX_REDIRECTS) throw new XhttpError('PROTOCOL', 'too many redirects', { attempts: res.attempts });
  return nextSpec(s, res.status, location, route, {
    deadlineAt,
    maxResponseBytes: s.maxResponseBytes - bodyBytes,
    // Retries left for the chain: the hop that just ended used `attempts - 1` of them.
    maxAttempts: s.retry === undefined ? 1 : Math.max(1, s.retry.maxAttempts - (res.attempts - 1)),
  });
}

function bufferedLength(body: XResponse['body']): number {
  return body instanceof BufferedBody ? body.length : 0;
}

/** What the hops after this one share with it. */
interface ChainBounds {
  readonly deadlineAt: number;
  readonly maxResponseBytes: number;
  readonly maxAttempts: number;
}

/** The headers that describe a request body: dropped with it when a redirect turns the request into a GET. */
const REQUEST_BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location'];

function nextSpec(s: CallSpec, status: number, location: string, route: Route, bounds: ChainBounds): CallSpec {
  let url: URL;
  try {
    url = new URL(location, SENTINEL + s.target);
  } catch {
    // No cause: the URL parser's error quotes the location, query string and all.
    throw new XhttpError('PROTOCOL', 'malformed redirect location');
  }
  let group = s.group;
  let target = url.pathname + url.search;
  if (url.origin !== SENTINEL) ({ group, target } = route(url.href));
  const headers = Object.assign(Object.create(null) as Record<string, string>, s.headers);
  if (group !== s.group) for (const h of CROSS_ORIGIN_STRIPPED) delete headers[h];
  let method = s.method;
  let body = s.body;
  // As fetch (WHATWG "HTTP-redirect fetch"): a GET or HEAD stays as it is, headers and all.
  if (
    (status === 303 && method !== 'HEAD' && method !== 'GET') ||
    ((status === 301 || status === 302) && method === 'POST')
  ) {
    method = 'GET';
    body = null;
    for (const h of REQUEST_BODY_HEADERS) delete headers[h];
  }
  const qi = target.indexOf('?');
  const path = qi < 0 ? target : target.slice(0, qi);
  const { url: _url, ...rest } = s.request;
  const once = body === null ? undefined : s.once;
  const retry =
    s.retry === undefined || s.retry.maxAttempts === bounds.maxAttempts
      ? s.retry
      : { ...s.retry, maxAttempts: bounds.maxAttempts };
  return {
    ...s,
    request: { ...rest, group, method, path },
    group,
    target,
    path,
    method,
    body,
    once,
    headers,
    retry,
    maxResponseBytes: bounds.maxResponseBytes,
    deadlineAt: bounds.deadlineAt,
  };
}
