import { Observable, of, switchMap } from 'rxjs';
import { XhttpError } from '../errors.js';
import type { GroupLike, XResponse } from '../types.js';
import type { CallSink } from './call.js';
import type { CallSpec } from './request.js';

/** Most hops a call follows, as WHATWG fetch. */
export const MAX_REDIRECTS = 20;
/** Headers that must not follow a redirect to another origin. */
export const CROSS_ORIGIN_STRIPPED = ['authorization', 'cookie', 'proxy-authorization'];
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const SENTINEL = 'http://rxhttp.invalid';

/**
 * Follows 3xx responses (`redirect: 'follow'`) or turns them into errors (`'error'`). Each hop is
 * a full call of its own (pick, retry, breaker). Crossing to another group or origin drops
 * Authorization, Cookie and Proxy-Authorization; 303 (and 301/302 after POST) become GET.
 */
export function followRedirects(
  spec: CallSpec,
  run: (spec: CallSpec) => Observable<XResponse>,
  route: Route,
): Observable<XResponse> {
  const hop = (s: CallSpec, n: number): Observable<XResponse> =>
    run(s).pipe(
      switchMap((res) => {
        const next = nextHop(s, res, n, route);
        return next === undefined ? of(res) : hop(next, n + 1);
      }),
    );
  return hop(spec, 0);
}

/** Starts one call of a hop, reporting to `sink` (the client's `startCall` on its runtime). */
export type StartHop = (spec: CallSpec, sink: CallSink) => void;

/**
 * {@link followRedirects} for the Promise API, as a call sink: each hop's Call reports here, a
 * redirect starts the next hop with a sink of its own, and the answer goes through `finish` (the
 * response itself, or fetch's `Response`) to `resolve`. One Promise per call, however many hops,
 * and no async frame around the Call.
 */
export class RedirectSink<T> implements CallSink {
  #starting = true;

  constructor(
    readonly spec: CallSpec,
    /** Redirects followed before this hop: 0 for the first request. */
    readonly hop: number,
    /** This hop's absolute URL when the call was made by URL (fetch's `res.url`), else undefined. */
    readonly url: string | undefined,
    readonly start: StartHop,
    readonly route: Route,
    readonly finish: (res: XResponse, sink: RedirectSink<T>) => T | PromiseLike<T>,
    readonly resolve: (value: T | PromiseLike<T>) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  /** Starts this hop's call. */
  run(): this {
    this.start(this.spec, this);
    this.#starting = false;
    return this;
  }

  next(res: XResponse): void {
    let next: CallSpec | undefined;
    let url: string | undefined;
    try {
      next = nextHop(this.spec, res, this.hop, this.route);
      if (next === undefined) {
        this.resolve(this.finish(res, this));
        return;
      }
      // nextHop parsed the location already; this URL is only what a fetch Response reports.
      if (this.url !== undefined) url = new URL(res.headers['location'] as string, this.url).href;
    } catch (error) {
      // Nothing thrown here may reach the Call that reported: it settles this call's Promise instead.
      this.reject(error);
      return;
    }
    new RedirectSink(
      next,
      this.hop + 1,
      url,
      this.start,
      this.route,
      this.finish,
      this.resolve,
      this.reject,
    ).run();
  }

  error(error: XhttpError): void {
    // A call that fails inside start() (fail fast, no address) would reject before the caller could
    // attach a handler; Node's unhandled-rejection tracking costs more than the fail fast itself.
    if (this.#starting) queueMicrotask(() => this.reject(error));
    else this.reject(error);
  }

  complete(): void {}
}

/** Runs `spec` and its redirect hops; resolves to `finish` of the answer. `url`: the first hop's, if by URL. */
export function followRedirectsPromise<T>(
  spec: CallSpec,
  start: StartHop,
  route: Route,
  finish: (res: XResponse, sink: RedirectSink<T>) => T | PromiseLike<T>,
  url?: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    new RedirectSink(spec, 0, url, start, route, finish, resolve, reject).run();
  });
}

type Route = (url: string) => { group: GroupLike; target: string };

/**
 * The spec of the next hop after `res` (the `n`-th response of the call), or undefined when `res`
 * is the answer (always under `redirect: 'manual'`). Throws `PROTOCOL` for a redirect under `redirect: 'error'` or past {@link MAX_REDIRECTS}.
 */
function nextHop(s: CallSpec, res: XResponse, n: number, route: Route): CallSpec | undefined {
  // The status first: most responses are not redirects, and reading headers parses them.
  if (!REDIRECT_STATUSES.has(res.status) || s.redirect === 'manual') return undefined;
  const location = res.headers['location'];
  if (typeof location !== 'string') return undefined;
  void res.body.dump();
  if (s.redirect === 'error')
    throw new XhttpError('PROTOCOL', `redirect (${res.status}) not allowed`, { attempts: res.attempts });
  if (n >= MAX_REDIRECTS) throw new XhttpError('PROTOCOL', 'too many redirects', { attempts: res.attempts });
  return nextSpec(s, res.status, location, route);
}

/** The headers that describe a request body: dropped with it when a redirect turns the request into a GET. */
const REQUEST_BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location'];

function nextSpec(s: CallSpec, status: number, location: string, route: Route): CallSpec {
  let url: URL;
  try {
    url = new URL(location, SENTINEL + s.target);
  } catch (cause) {
    throw new XhttpError('PROTOCOL', 'malformed redirect location', { cause });
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
  return { ...s, request: { ...rest, group, method, path }, group, target, path, method, body, headers };
}
