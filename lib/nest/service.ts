import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { Client } from '../client/client.js';
import { AddressGroup } from '../group/address-group.js';
import type { CallOptions, RequestBody, XRequest, XResponse } from '../types.js';
import { RXHTTP_MODULE_OPTIONS, type RxHttpModuleOptions } from './options.js';

type Body = RequestBody | Record<string, unknown> | readonly unknown[] | undefined;

/**
 * rxhttp as `@nestjs/axios`'s `HttpService`: the same method names and argument order, each
 * returning a cold `Observable<XResponse>`. A URL whose host is a named group
 * (`http://users/profile`) goes through that group: balancing, retries and breakers included.
 *
 * @example
 * ```ts
 * constructor(private readonly http: RxHttpService) {}
 * profile(id: string) {
 *   return this.http.get(`http://users/profile/${id}`, { retry: { maxAttempts: 3 } });
 * }
 * ```
 */
@Injectable()
export class RxHttpService implements OnApplicationShutdown {
  /** The underlying client, for `events$`, `health$`, `breakers$` and `fetch`. */
  readonly client: Client;
  /** Groups this module created, by name. */
  readonly groups: ReadonlyMap<string, AddressGroup>;
  readonly #owned: AddressGroup[] = [];

  constructor(@Inject(RXHTTP_MODULE_OPTIONS) options: RxHttpModuleOptions) {
    const { groups = {}, ...config } = options ?? {};
    this.client = new Client(config);
    const named = new Map<string, AddressGroup>();
    for (const [name, spec] of Object.entries(groups)) {
      let group: AddressGroup;
      if (spec instanceof AddressGroup) group = spec;
      else {
        group =
          typeof spec === 'string'
            ? new AddressGroup(spec, { name })
            : new AddressGroup(spec.target, { name, ...spec.options });
        this.#owned.push(group);
      }
      this.client.register(name, group);
      named.set(name, group);
    }
    this.groups = named;
  }

  request(req: XRequest, options?: CallOptions): Observable<XResponse> {
    return this.client.request$(req, options);
  }

  get(url: string, options?: CallOptions): Observable<XResponse> {
    return this.client.request$({ method: 'GET', url }, options);
  }

  head(url: string, options?: CallOptions): Observable<XResponse> {
    return this.client.request$({ method: 'HEAD', url }, options);
  }

  delete(url: string, options?: CallOptions): Observable<XResponse> {
    return this.client.request$({ method: 'DELETE', url }, options);
  }

  post(url: string, body?: Body, options?: CallOptions): Observable<XResponse> {
    return this.client.request$(withBody('POST', url, body), options);
  }

  put(url: string, body?: Body, options?: CallOptions): Observable<XResponse> {
    return this.client.request$(withBody('PUT', url, body), options);
  }

  patch(url: string, body?: Body, options?: CallOptions): Observable<XResponse> {
    return this.client.request$(withBody('PATCH', url, body), options);
  }

  /** Closes the client and the groups this module created. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
    for (const g of this.#owned) g.close();
  }
}

/** Strings, bytes and forms go as they are; other values as JSON, like axios. */
function withBody(method: string, url: string, body: Body): XRequest {
  if (body === undefined || body === null) return { method, url };
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams)
    return { method, url, body };
  return { method, url, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}
