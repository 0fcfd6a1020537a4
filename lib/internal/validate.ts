import { invalidArgument } from '../errors.js';

/** Rejects anything but a plain object whose own keys are all in `allowed`. */
export function checkOptions(value: unknown, allowed: readonly string[], field: string): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArgument(field === '' ? 'config' : field, 'must be an object');
  // for-in rather than Object.keys: no array per call (this runs on every call's options). It also
  // lists inherited enumerable keys, so an unknown key counts only when it is the object's own.
  for (const key in value) {
    if (!allowed.includes(key) && Object.hasOwn(value, key))
      throw invalidArgument(field === '' ? key : `${field}.${key}`, 'unknown option');
  }
}

/** Longest delay a Node timer honours (a longer one fires at once). */
export const MAX_DURATION = 2_147_483_647;

/** A duration in ms: finite, ≥ 0 and at most 2^31−1, or undefined. */
export function optionalDuration(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DURATION)
    throw invalidArgument(field, 'must be a non-negative number of ms, at most 2^31-1');
  return value;
}

/** A strictly positive duration in ms, or undefined. */
export function optionalPositiveDuration(value: unknown, field: string): number | undefined {
  const v = optionalDuration(value, field);
  if (v === 0) throw invalidArgument(field, 'must be greater than 0');
  return v;
}

/** A number in [0, 1], or undefined. */
export function optionalRatio(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1)
    throw invalidArgument(field, 'must be a number in [0, 1]');
  return value;
}

/** A positive integer, or undefined. */
export function optionalPositiveInt(
  value: unknown,
  field: string,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw invalidArgument(field, `must be an integer from 1 to ${max}`);
  return value;
}
