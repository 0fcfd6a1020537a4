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
const MAX_DURATION = 2_147_483_647;

/**
 * What a user gave, for a message: a number as written (`-1`, `NaN`, `Infinity`), anything else by
 * its kind only (`a string`), so a message never echoes a value that might be a secret.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const kind = typeof value;
  return kind === 'object' ? 'an object' : `a ${kind}`;
}

/**
 * A duration in ms that may be 0: finite, from 0 to 2^31−1, or undefined. `zero` says what 0 means
 * for this field (`'no limit'`), so the message tells the user; one message for every bad value.
 */
export function optionalDuration(value: unknown, field: string, zero?: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DURATION)
    throw invalidArgument(
      field,
      `must be a number of milliseconds from 0${zero === undefined ? '' : ` (${zero})`} to ${MAX_DURATION} (got ${describeValue(value)})`,
    );
  return value;
}

/**
 * A strictly positive duration in ms, or undefined. 0 and negatives get the same message: for these
 * fields 0 is not "off", it is as wrong as -1.
 */
export function optionalPositiveDuration(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || value > MAX_DURATION)
    throw invalidArgument(
      field,
      `must be a positive number of milliseconds, at most ${MAX_DURATION} (got ${describeValue(value)})`,
    );
  return value;
}

/** A number in [0, 1], or undefined. */
export function optionalRatio(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1)
    throw invalidArgument(field, `must be a number from 0 to 1 (got ${describeValue(value)})`);
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
    throw invalidArgument(field, `must be an integer from 1 to ${max} (got ${describeValue(value)})`);
  return value;
}

/**
 * `o[key]` when `o` has it as an own property, else undefined: options are never read through the
 * prototype chain, so a polluted `Object.prototype` cannot configure us. An absent key (the common
 * case) is settled by the read alone, with no `hasOwn` call.
 */
export function own<T extends object, K extends keyof T>(o: T | undefined, key: K): T[K] | undefined {
  if (o === undefined) return undefined;
  const v = o[key];
  return v !== undefined && Object.hasOwn(o, key) ? v : undefined;
}
