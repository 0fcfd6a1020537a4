import { invalidArgument, type XhttpError } from '../errors.js';

/**
 * The error a call fails with when a user callback throws (`retry.retryOn`,
 * `circuitBreaker.isFailure`, `circuitBreaker.key`, a balancer's `pick`, a resolver's `resolve`):
 * `INVALID_ARGUMENT` whose `field` names the callback, its `cause` the thrown value.
 *
 * Why `INVALID_ARGUMENT` and not a code of its own: the code already means "the caller's
 * configuration is at fault, `field` says where", which is what a throwing callback is; it is never
 * retried or counted against a host; and the public code union (which users switch on) stays as
 * the design fixes it. The message never holds the thrown value's text (it could hold anything);
 * `cause` does, as the caller's own value.
 *
 * @example
 * ```ts
 * try { verdict = isFailure(outcome) } catch (e) { throw callbackFailed('circuitBreaker.isFailure', e) }
 * ```
 */
export function callbackFailed(field: string, thrown: unknown): XhttpError {
  return invalidArgument(field, 'the callback threw', thrown);
}

/** The `field` of the error a resolver's throwing `resolve` fails waiting calls with. */
export const RESOLVE_FIELD = 'resolver.resolve';
