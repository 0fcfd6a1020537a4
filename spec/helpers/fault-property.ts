import assert from 'node:assert/strict';
import { isXhttpError } from '../../lib/index.js';

/**
 * Most CPU a validator may spend on one input: only regex backtracking gets near it. CPU time,
 * not wall time: on a loaded machine (load 14 on 2 cores in CI) a validation can wait for a core
 * without doing any work, while backtracking burns the CPU it is charged for.
 */
export const MAX_VALIDATION_MS = 1_000;

/** CPU time this process has used, ms (user + system, every thread). */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
};

/**
 * Runs `fn` on a generated input: it must return (accepted) or throw an XhttpError with code
 * `INVALID_ARGUMENT` (rejected) — never another error — and do so quickly. Returns whether accepted,
 * with the value or the field the error names.
 */
export function acceptOrInvalid<T>(
  fn: () => T,
  describe: () => string,
): { accepted: boolean; value?: T; field?: string } {
  const t = cpuMs();
  let result: { accepted: boolean; value?: T; field?: string };
  try {
    result = { accepted: true, value: fn() };
  } catch (e) {
    if (!isXhttpError(e) || e.code !== 'INVALID_ARGUMENT')
      assert.fail(`${describe()} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.ok(typeof e.field === 'string', `${describe()}: INVALID_ARGUMENT names the field`);
    result = { accepted: false, field: e.field };
  }
  const ms = cpuMs() - t;
  assert.ok(ms < MAX_VALIDATION_MS, `${describe()} took ${ms.toFixed(0)} ms of CPU`);
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
