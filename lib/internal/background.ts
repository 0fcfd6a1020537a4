import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { systemClock, type Clock } from './clock.js';

/**
 * Timers for rxhttp's background work: resolver refreshes and their back-off, DNS lookup bounds and
 * health-view ticks. They are `unref`'d, so a process whose only remaining work is rxhttp's idle
 * state exits by itself, as it would with undici alone (whose idle keep-alive sockets are unref'd
 * too). Per-call timers (deadlines, retry back-off) stay ref'd on purpose: a call in flight keeps
 * the process alive until it settles.
 */

/** One scheduled piece of work: RxJS's `SchedulerAction` contract on an unref'd `setTimeout`. */
class BackgroundAction<T> extends Subscription implements SchedulerAction<T> {
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #work: (this: SchedulerAction<T>, state?: T) => void;

  constructor(work: (this: SchedulerAction<T>, state?: T) => void) {
    super(() => this.#clear());
    this.#work = work;
  }

  /** (Re)arms the action: a later call replaces the pending run, as RxJS's async actions do. */
  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.#clear();
    const timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#work.call(this, state);
      },
      Math.max(0, delay),
    );
    timer.unref();
    this.#timer = timer;
    return this;
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * An RxJS scheduler like `asyncScheduler` (epoch-ms `now` from the system clock, `setTimeout` delays) whose timers do
 * not keep the process alive. The default scheduler of address groups and DNS resolvers.
 *
 * @example
 * ```ts
 * timer(30_000, backgroundScheduler).subscribe(refresh); // never holds the process open
 * ```
 */
export const backgroundScheduler: SchedulerLike = {
  now: () => systemClock.now(),
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new BackgroundAction(work).schedule(state, delay);
  },
};

/**
 * `clock.setTimer` for background work: on the system clock the timer is unref'd; any other clock
 * (a virtual one in specs) is used as it is. Returns the cancel function.
 */
export function setBackgroundTimer(clock: Clock, fn: () => void, ms: number): () => void {
  if (clock !== systemClock) return clock.setTimer(fn, ms);
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}
