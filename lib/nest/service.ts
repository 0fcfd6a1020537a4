import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { defer, type Observable } from 'rxjs';
import { Client } from '../client/client.js';
import { adoptGroup } from '../client/owned-groups.js';
import { invalidArgument } from '../errors.js';
import { AddressGroup } from '../group/address-group.js';
import type { CallOptions, XResponse } from '../types.js';
import { encodeRequest, type RxHttpBody, type RxHttpRequest } from './body.js';
import { RXHTTP_MODULE_OPTIONS, type GroupSpec, type RxHttpModuleOptions } from './options.js';

/**
 * rxhttp as `@nestjs/axios`'s `HttpService`: the same method names and argument order, each
 * returning a cold `Observable<XResponse>` (subscribe to send; unsubscribe to cancel). A URL whose
 * host is a named group (`http://users/profile`) goes through that group: balancing, retries and
 * breakers included. Any status is a response; transport failures are `XhttpError`s.
 *
 * @example
 * ```ts
 * constructor(@Inject(RxHttpService) private readonly http: RxHttpService) {}
 * profile(id: string) {
 *   return this.http.get(`http://users/profile/${id}`, { retry: { maxAttempts: 3 } });
 * }
 * ```
 */
@Injectable()
export class RxHttpService implements OnApplicationShutdown {
  /** The underlying client, for `events$`, `health$`, `breakers$` and `fetch`. */
  readonly client: Client;
  /** The named groups of the module options, by name (ready-made ones included). */
  readonly groups: ReadonlyMap<string, AddressGroup>;
  // Only groups built here from targets are ours to close; a ready-made AddressGroup stays the caller's.
  readonly #owned: AddressGroup[] = [];

  constructor(@Inject(RXHTTP_MODULE_OPTIONS) options: RxHttpModuleOptions) {
    // incomingDeadline is the module's (it registers an interceptor), not the client's.
    const { groups = {}, incomingDeadline: _incoming, ...config } = options ?? {};
    this.client = new Client(config);
    const named = new Map<string, AddressGroup>();
    try {
      if (typeof groups !== 'object' || groups === null)
        throw invalidArgument('groups', 'must be an object of name to group');
      for (const [name, spec] of Object.entries(groups)) {
        const group = this.#group(name, spec);
        this.client.register(name, group);
        named.set(name, group);
      }
    } catch (err) {
      // Nest aborts the bootstrap without calling shutdown hooks: release what was built so far.
      this.#closeOwned();
      void this.client.close();
      throw err;
    }
    this.groups = named;
  }

  /** Sends `req` (`url` may name a group); an object body goes as JSON. */
  request(req: RxHttpRequest, options?: CallOptions): Observable<XResponse> {
    // Encode on subscribe, as the core validates: a bad body is an error notification that
    // `catchError` sees, never a throw at call time, and JSON.stringify runs per subscription.
    return defer(() => this.client.request$(encodeRequest(req), options));
  }

  /** GET `url`. */
  get(url: string, options?: CallOptions): Observable<XResponse> {
    return this.client.request$({ method: 'GET', url }, options);
  }

  /** HEAD `url`. */
  head(url: string, options?: CallOptions): Observable<XResponse> {
    return this.client.request$({ method: 'HEAD', url }, options);
  }

  /** DELETE `url`. */
  delete(url: string, options?: CallOptions): Observable<XResponse> {
    return this.client.request$({ method: 'DELETE', url }, options);
  }

  /** POST `body`; retried only when it provably never reached a server, unless `retryNonIdempotent`. */
  post(url: string, body?: RxHttpBody, options?: CallOptions): Observable<XResponse> {
    return this.request({ method: 'POST', url, body }, options);
  }

  /** PUT `body`. */
  put(url: string, body?: RxHttpBody, options?: CallOptions): Observable<XResponse> {
    return this.request({ method: 'PUT', url, body }, options);
  }

  /** PATCH `body`; retried like POST. */
  patch(url: string, body?: RxHttpBody, options?: CallOptions): Observable<XResponse> {
    return this.request({ method: 'PATCH', url, body }, options);
  }

  /**
   * Closes the client and the groups this module created. On shutdown rather than on module
   * destroy, so other providers can still call out from their own `onModuleDestroy`.
   */
  async onApplicationShutdown(): Promise<void> {
    try {
      await this.client.close();
    } finally {
      this.#closeOwned();
    }
  }

  #group(name: string, spec: GroupSpec): AddressGroup {
    if (spec instanceof AddressGroup) return spec;
    let group: AddressGroup;
    try {
      if (typeof spec === 'string') group = new AddressGroup(spec, { name });
      else if (typeof spec === 'object' && spec !== null && typeof spec.target === 'string')
        group = new AddressGroup(spec.target, { name, ...spec.options });
      else throw new TypeError('must be a target, an AddressGroup or { target, options }');
    } catch (err) {
      // Name the group in the error: the core's message names only `target` or `options.x`.
      throw invalidArgument(`groups.${name}`, (err as Error).message, err);
    }
    this.#owned.push(group);
    // Built here, so the client closes it too: `client.close()` alone leaves nothing running.
    adoptGroup(this.client, group);
    return group;
  }

  #closeOwned(): void {
    for (const g of this.#owned.splice(0)) g.close();
  }
}
