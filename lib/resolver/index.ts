import { invalidArgument } from '../errors.js';
import type { Resolver } from '../types.js';

const registry = new Map<string, Resolver>();
const BUILT_IN = new Set(['static', 'http', 'https']);

/**
 * Adds a resolver for `scheme://…` targets. A later registration of the same scheme replaces the
 * earlier one, so tests and apps can swap implementations.
 *
 * @example
 * ```ts
 * registerResolver({ scheme: 'consul', resolve: (url) => of([{ host: '127.0.0.1', port: 8080 }]) });
 * new AddressGroup('consul://users');
 * ```
 */
export function registerResolver(resolver: Resolver): void {
  if (typeof resolver !== 'object' || resolver === null || typeof resolver.resolve !== 'function')
    throw invalidArgument('resolver', 'must have a resolve(target) function');
  const scheme = typeof resolver.scheme === 'string' ? resolver.scheme.toLowerCase() : '';
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw invalidArgument('resolver.scheme', 'must be a URL scheme');
  if (BUILT_IN.has(scheme)) throw invalidArgument('resolver.scheme', `'${scheme}' is built in`);
  registry.set(scheme, resolver);
}

/** The resolver registered for `scheme`, if any. */
export function findResolver(scheme: string): Resolver | undefined {
  return registry.get(scheme);
}
