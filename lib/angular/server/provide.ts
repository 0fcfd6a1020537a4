import { FetchBackend, HttpBackend, HttpXhrBackend } from '@angular/common/http';
import {
  DestroyRef,
  InjectionToken,
  inject,
  makeEnvironmentProviders,
  provideEnvironmentInitializer,
  type EnvironmentProviders,
} from '@angular/core';
import { Client } from '../../client/client.js';
import type { ClientConfig } from '../../client/config.js';
import { adoptGroup } from '../../client/owned-groups.js';
import { invalidArgument } from '../../errors.js';
import { AddressGroup, type AddressGroupOptions } from '../../group/address-group.js';
import { checkOptions } from '../../internal/validate.js';
import type { CallOptions } from '../../types.js';
import { RxHttpBackend } from './backend.js';

/**
 * A named group: a target (`'dns+srv://…'`, `'static://…'`), a ready `AddressGroup` (stays yours to
 * close), or a target with `AddressGroupOptions`; as `RxHttpModule`'s `groups`.
 */
export type RxHttpGroupSpec =
  string | AddressGroup | { readonly target: string; readonly options?: AddressGroupOptions };

/**
 * Configuration of {@link provideRxHttp}.
 *
 * @example
 * ```ts
 * provideRxHttp({ groups: { users: 'static://10.0.0.1:8080,10.0.0.2:8080' }, callOptions: { timeout: 2_000 } })
 * ```
 */
export interface ProvideRxHttpConfig {
  /**
   * The client: a `ClientConfig` to make one per injector (closed, with the groups made here, when
   * the injector is destroyed), or a ready `Client`, shared and never closed here (then register
   * its groups yourself and give no `groups`). With server-side rendering an application (and its
   * injector) lives for one request: share one `Client` across them to keep its connections and
   * breakers. @defaultValue `{}`: a client of default settings per injector
   */
  readonly client?: Client | ClientConfig;
  /** Groups to register by name on the client made here: `http://name/...` then goes through them. */
  readonly groups?: Readonly<Record<string, RxHttpGroupSpec>>;
  /** Options of every call through the client (`retry`, `timeout`, …); a request's `timeout` wins. */
  readonly callOptions?: CallOptions;
}

/** The rxhttp `Client` of the injector, for its `events$`, `health$`, `breakers$` and `fetch`. */
export const RXHTTP_CLIENT = new InjectionToken<Client>('RXHTTP_CLIENT');

const KEYS = ['client', 'groups', 'callOptions'];

/**
 * Environment providers for Angular on the server: `HttpClient` requests to a named group
 * (`http://users/...`) go through an rxhttp `Client` (balancing, breakers, retries, metrics), every
 * other request to Angular's own backend (`FetchBackend` with `withFetch()`, else `HttpXhrBackend`).
 * It replaces the `HttpBackend`, so interceptors (`rxhttpInterceptor` too) still run first. Provide
 * it where `provideHttpClient(...)` is (the application's root), after it: the injector fails at
 * start, naming `provideRxHttp`, if a later provider took the `HttpBackend` back. Server-only: this entry imports the Node client.
 *
 * Bad settings throw `INVALID_ARGUMENT` naming the field, here for the shape and when the client
 * is made for the rest.
 *
 * @example
 * ```ts
 * const config: ApplicationConfig = {
 *   providers: [
 *     provideHttpClient(withFetch()),
 *     provideRxHttp({ groups: { users: 'dns+srv://_http._tcp.users.svc.cluster.local' } }),
 *   ],
 * };
 * // in a component or service: inject(HttpClient).get('http://users/users/42')
 * ```
 */
export function provideRxHttp(config: ProvideRxHttpConfig = {}): EnvironmentProviders {
  checkOptions(config, KEYS, 'provideRxHttp');
  const shared = config.client instanceof Client ? config.client : undefined;
  if (shared !== undefined && config.groups !== undefined)
    throw invalidArgument('groups', 'register the groups on the Client you give, not here');
  if (config.groups !== undefined && (typeof config.groups !== 'object' || config.groups === null))
    throw invalidArgument('groups', 'must be an object of name to group');
  return makeEnvironmentProviders([
    {
      provide: RXHTTP_CLIENT,
      useFactory: () => shared ?? ownedClient(config, inject(DestroyRef)),
    },
    {
      provide: HttpBackend,
      // Angular's own choice, as provideHttpClient makes it: FetchBackend only with withFetch().
      useFactory: () =>
        new RxHttpBackend(
          inject(RXHTTP_CLIENT),
          inject(FetchBackend, { optional: true }) ?? inject(HttpXhrBackend),
          config.callOptions,
        ),
    },
    provideEnvironmentInitializer(() => {
      if (!(inject(HttpBackend) instanceof RxHttpBackend))
        throw invalidArgument(
          'provideRxHttp',
          'another HttpBackend was provided after it: list provideRxHttp() after provideHttpClient()',
        );
    }),
  ]);
}

/** A client of `config` with its groups, closed with them when the injector is destroyed. */
function ownedClient(config: ProvideRxHttpConfig, destroyRef: DestroyRef): Client {
  const client = new Client((config.client as ClientConfig | undefined) ?? {});
  destroyRef.onDestroy(() => void client.close());
  try {
    for (const [name, spec] of Object.entries(config.groups ?? {})) {
      const group = groupOf(name, spec);
      if (group !== spec) adoptGroup(client, group); // made here: the client closes it too
      client.register(name, group);
    }
  } catch (err) {
    void client.close();
    throw err;
  }
  return client;
}

function groupOf(name: string, spec: RxHttpGroupSpec): AddressGroup {
  if (spec instanceof AddressGroup) return spec;
  try {
    if (typeof spec === 'string') return new AddressGroup(spec, { name });
    if (typeof spec === 'object' && spec !== null && typeof spec.target === 'string')
      return new AddressGroup(spec.target, { name, ...spec.options });
    throw new TypeError('must be a target, an AddressGroup or { target, options }');
  } catch (err) {
    // Name the group: the core's message names only `target` or `options.x`.
    throw invalidArgument(`groups.${name}`, (err as Error).message, err);
  }
}
