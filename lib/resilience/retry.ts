/**
 * What `decideRetry` returns when an attempt's outcome should be retried. Carries the delay the
 * decision chose (back-off, Retry-After or transparent), so the call only waits (the client's `Call` runs it).
 */
export class RetryDecision {
  constructor(
    readonly delayMs: number,
    readonly reason: 'backoff' | 'retry-after' | 'transparent',
  ) {}
}
