import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { activeResources, settle } from './handles.js';

/**
 * A leak probe for one spec: records the active handles at start and counts every timer created
 * after it with `async_hooks` (unref'd timers, such as pooled keep-alive timers, do not show in
 * `getActiveResourcesInfo()`). `assertClean()` waits until both are back to the start, or fails
 * naming what is left.
 *
 * Undici's process-wide tick timer (`onTick` in undici/lib/util/timers.js) is one per process,
 * not per client, and is excluded.
 */
export class LeakProbe {
  readonly #baseline: string[];
  readonly #timers = new Map<number, string>();
  readonly #hook;

  private constructor(baseline: string[]) {
    this.#baseline = baseline;
    this.#hook = createHook({
      init: (id, type, _trigger, resource) => {
        if (type !== 'Timeout') return;
        const cb = (resource as { _onTimeout?: { name?: string } })._onTimeout;
        this.#timers.set(id, cb?.name || 'anonymous');
      },
      destroy: (id) => {
        this.#timers.delete(id);
      },
    });
    this.#hook.enable();
  }

  /** Settles the loop, then records the baseline and starts counting timers. */
  static async start(): Promise<LeakProbe> {
    await settle(20);
    return new LeakProbe(activeResources().sort());
  }

  /** Timers created since start and still alive (neither fired nor cleared). */
  liveTimers(): string[] {
    return [...this.#timers.values()].filter((name) => name !== 'onTick');
  }

  /** Active handles now, minus the baseline (a multiset difference). */
  extraResources(): string[] {
    const left = [...this.#baseline];
    const extra: string[] = [];
    for (const r of activeResources()) {
      const i = left.indexOf(r);
      if (i >= 0) left.splice(i, 1);
      else extra.push(r);
    }
    return extra;
  }

  /** Waits (up to `withinMs`) until no handle and no timer is left beyond the baseline; then stops. */
  async assertClean(label = 'after close()', withinMs = 3_000): Promise<void> {
    const end = performance.now() + withinMs;
    for (;;) {
      await settle(25);
      const extra = this.extraResources();
      const timers = this.liveTimers();
      if (extra.length === 0 && timers.length === 0) break;
      if (performance.now() > end) {
        this.#hook.disable();
        assert.fail(`${label}: left behind handles [${extra.join(', ')}] and timers [${timers.join(', ')}]`);
      }
    }
    this.#hook.disable();
  }

  stop(): void {
    this.#hook.disable();
  }
}
