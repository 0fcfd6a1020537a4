import type { SchedulerLike } from 'rxjs';

/**
 * The one source of time. Everything that reads or waits on time takes a Clock, so specs can
 * swap in a virtual one (see {@link clockFromScheduler}).
 */
export interface Clock {
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

const ORIGIN = performance.timeOrigin;

/** Native timers: cheap and clearable. Time is epoch ms from the monotonic clock. */
export const systemClock: Clock = {
  now: () => ORIGIN + performance.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** A clock driven by an RxJS scheduler, e.g. a `TestScheduler` in virtual-time specs. */
export function clockFromScheduler(scheduler: SchedulerLike): Clock {
  return {
    now: () => scheduler.now(),
    setTimer(fn, ms) {
      const sub = scheduler.schedule(fn, ms);
      return () => sub.unsubscribe();
    },
  };
}

/** An armed timer of {@link startTimer}: a Node `Timeout`, or another clock's cancel function. */
export type TimerHandle = object;

/**
 * The hot path's form of `clock.setTimer`: runs `fn(arg)` after `ms` without a closure per timer on
 * the system clock (Node passes `arg` through); other clocks get one. Cancel with {@link clearTimer}.
 */
export function startTimer<T>(clock: Clock, fn: (arg: T) => void, ms: number, arg: T): TimerHandle {
  if (clock === systemClock) return setTimeout(fn, ms, arg);
  return clock.setTimer(() => fn(arg), ms);
}

/** Cancels a timer armed by {@link startTimer} on the same clock. */
export function clearTimer(clock: Clock, handle: TimerHandle): void {
  if (clock === systemClock) clearTimeout(handle as NodeJS.Timeout);
  else (handle as () => void)();
}
