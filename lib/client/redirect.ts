import { Observable, of, switchMap } from 'rxjs';
import { XhttpError } from '../errors.js';
import type { GroupLike, XResponse } from '../types.js';
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
  route: (url: string) => { group: GroupLike; target: string },
): Observable<XResponse> {
  const hop = (s: CallSpec, n: number): Observable<XResponse> =>
    run(s).pipe(
      switchMap((res) => {
        const location = res.headers['location'];
        if (!REDIRECT_STATUSES.has(res.status) || typeof location !== 'string') return of(res);
        void res.body.dump();
        if (s.redirect === 'error')
          throw new XhttpError('PROTOCOL', `redirect (${res.status}) not allowed`, {
            attempts: res.attempts,
          });
        if (n >= MAX_REDIRECTS)
          throw new XhttpError('PROTOCOL', 'too many redirects', { attempts: res.attempts });
        return hop(nextSpec(s, res.status, location, route), n + 1);
      }),
    );
  return hop(spec, 0);
}

function nextSpec(
  s: CallSpec,
  status: number,
  location: string,
  route: (url: string) => { group: GroupLike; target: string },
): CallSpec {
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
  if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
    method = 'GET';
    body = null;
    delete headers['content-type'];
  }
  const qi = target.indexOf('?');
  const path = qi < 0 ? target : target.slice(0, qi);
  const { url: _url, ...rest } = s.request;
  return { ...s, request: { ...rest, group, method, path }, group, target, path, method, body, headers };
}
