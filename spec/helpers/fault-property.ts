import assert from 'node:assert/strict';
import { isXhttpError } from '../../lib/index.js';

/**
 * Longest a validator may take on one input: a generous bound (not a speed target) that only
 * catastrophic regex backtracking reaches, above any pause of a loaded 2-core machine.
 */
export const MAX_VALIDATION_MS = 2_000;

/**
 * Runs `fn` on a generated input: it must return (accepted) or throw an XhttpError with code
 * `INVALID_ARGUMENT` (rejected) — never another error — and do so quickly. Returns whether accepted,
 * with the value or the field the error names.
 */
export function acceptOrInvalid<T>(
  fn: () => T,
  describe: () => string,
): { accepted: boolean; value?: T; field?: string } {
  const t = performance.now();
  let result: { accepted: boolean; value?: T; field?: string };
  try {
    result = { accepted: true, value: fn() };
  } catch (e) {
    if (!isXhttpError(e) || e.code !== 'INVALID_ARGUMENT')
      assert.fail(`${describe()} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.ok(typeof e.field === 'string', `${describe()}: INVALID_ARGUMENT names the field`);
    result = { accepted: false, field: e.field };
  }
  const ms = performance.now() - t;
  assert.ok(ms < MAX_VALIDATION_MS, `${describe()} took ${ms.toFixed(0)} ms`);
  return result;
}

/** JSON-ish rendering of a generated input for failure messages (functions and symbols named). */
export function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'function'
        ? '[function]'
        : typeof v === 'bigint'
          ? `${v}n`
          : typeof v === 'symbol'
            ? v.toString()
            : v,
    ).slice(0, 300);
  } catch {
    return String(value).slice(0, 300);
  }
}
