import {
  Observable,
  asyncScheduler,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { invalidArgument } from '../errors.js';
import {
  checkOptions,
  describeValue,
  optionalDuration,
  optionalPositiveInt,
  own,
} from '../internal/validate.js';
import { MAX_HEDGE_ATTEMPTS } from '../resilience/hedge.js';
import { isServerErrorValue } from './circuit-breaker.js';

/** Options of the {@link hedge} operator. */
export interface HedgeOperatorOptions<T> {
  /**
   * How long to wait for a value before subscribing to the source again, ms; or a function asked
   * at each subscription (a live percentile of your own), whose `undefined` means "do not hedge".
   */
  readonly delay: number | (() => number | undefined);
  /** Subscriptions to the source at once, the first included: 1 to 5. @defaultValue 2 */
  readonly maxAttempts?: number;
  /**
   * A value that does not win: while other attempts run it is dropped (they run on); from the last
   * one it is the result. @defaultValue an object with a numeric `status` ≥ 500
   */
  readonly isFailure?: (value: T) => boolean;
  /**
   * Asked before each hedge; `false` skips it and any later one (the attempts in flight run on): a budget, such as
   * `() => budget.tryWithdraw()`. @defaultValue always yes
   */
  readonly allow?: () => boolean;
  /** Where the delay is timed (a `TestScheduler` in specs). @defaultValue asyncScheduler */
  readonly scheduler?: SchedulerLike;
}

const KEYS = ['delay', 'maxAttempts', 'isFailure', 'allow', 'scheduler'];

/**
 * Hedged requests for any cold Observable (a `defer(() => fetch(url))`, an Angular `HttpClient`
 * call, a `pick(...)` of `rxhttp/operators` that picks another host per subscription): when the
 * source has not emitted after `delay`, it is subscribed to again while the first subscription
 * stays; the first value that is not a failure wins, and every other subscription is unsubscribed
 * (which cancels its request). An error of one attempt lets the others run on; the last attempt's
 * error or failure value is the result. The same semantics as the client's `hedge` option, for a
 * chain you compose yourself: put it inside `retryBackoff` so that each retry is hedged again, and
 * only on idempotent requests.
 *
 * Throws `INVALID_ARGUMENT` naming the field (`hedge.delay`, `hedge.maxAttempts`, …) on bad options.
 *
 * @example
 * ```ts
 * defer(() => fetch(url)).pipe(hedge({ delay: 50 }), retryBackoff({ maxAttempts: 3 }));
 * ```
 */
export function hedge<T>(options: HedgeOperatorOptions<T>): MonoTypeOperatorFunction<T> {
  checkOptions(options, KEYS, 'hedge');
  const rawDelay = own(options, 'delay');
  const fixed =
    typeof rawDelay === 'function' ? undefined : optionalDuration(rawDelay, 'hedge.delay', 'hedge at once');
  if (typeof rawDelay !== 'function' && fixed === undefined)
    throw invalidArgument('hedge.delay', `is required: ms or a function (got ${describeValue(rawDelay)})`);
  const delayOf = typeof rawDelay === 'function' ? rawDelay : () => fixed;
  const maxAttempts =
    optionalPositiveInt(own(options, 'maxAttempts'), 'hedge.maxAttempts', MAX_HEDGE_ATTEMPTS) ?? 2;
  const isFailure = own(options, 'isFailure') ?? (isServerErrorValue as (value: T) => boolean);
  if (typeof isFailure !== 'function') throw invalidArgument('hedge.isFailure', 'must be a function');
  const allow = own(options, 'allow');
  if (allow !== undefined && typeof allow !== 'function')
    throw invalidArgument('hedge.allow', 'must be a function');
  const scheduler = own(options, 'scheduler') ?? asyncScheduler;
  return (source) =>
    new Observable<T>((subscriber) => {
      const attempts: Attempt[] = [];
      let winner: Attempt | undefined;
      let timer: Subscription | undefined;
      let finished = false;
      const delay = delayOf();

      const othersRunning = (a: Attempt): boolean => attempts.some((o) => o !== a && !o.done);
      /** Stops everything but the winner: the timer, and every other attempt in flight. */
      const stopOthers = (): void => {
        timer?.unsubscribe();
        timer = undefined;
        for (const o of attempts) {
          if (o === winner || o.done) continue;
          o.done = true;
          o.sub?.unsubscribe();
        }
      };
      /** The result is `a`'s end: unless another attempt runs on (no winner yet). */
      const ends = (a: Attempt): boolean => {
        a.done = true;
        if (finished || (winner !== undefined && winner !== a)) return false;
        if (winner === undefined && othersRunning(a)) return false;
        finished = true;
        stopOthers();
        return true;
      };

      const launch = (): void => {
        const a: Attempt = { sub: undefined, done: false };
        attempts.push(a);
        a.sub = source.subscribe({
          next: (value) => {
            if (winner === a) {
              subscriber.next(value);
              return;
            }
            if (winner !== undefined || a.done || finished) return;
            let failed: boolean;
            try {
              failed = isFailure(value);
            } catch (error) {
              finished = true;
              stopOthers();
              subscriber.error(error);
              return;
            }
            // A failure while others run: dropped, they run on. From the last one: the result.
            if (failed && othersRunning(a)) {
              a.done = true;
              a.sub?.unsubscribe();
              return;
            }
            winner = a;
            stopOthers();
            subscriber.next(value);
          },
          error: (error: unknown) => {
            if (ends(a)) subscriber.error(error);
          },
          complete: () => {
            if (ends(a)) subscriber.complete();
          },
        });
        // A synchronous source may have ended (or lost) inside subscribe.
        if (a.done && a !== winner) a.sub.unsubscribe();
      };

      const arm = (): void => {
        if (delay === undefined) return;
        timer = scheduler.schedule(() => {
          timer = undefined;
          if (finished || winner !== undefined) return;
          if (attempts.filter((o) => !o.done).length >= maxAttempts) return;
          // A refused hedge ends this round's hedging, as the client's does.
          if (allow !== undefined && !allow()) return;
          launch();
          if (!finished && winner === undefined && attempts.filter((o) => !o.done).length < maxAttempts)
            arm();
        }, delay);
      };

      launch();
      if (!finished && winner === undefined) arm();
      return () => {
        finished = true;
        stopOthers();
        winner?.sub?.unsubscribe();
      };
    });
}

interface Attempt {
  sub: Subscription | undefined;
  done: boolean;
}
