import { invalidArgument } from '../errors.js';
import {
  checkOptions,
  describeValue,
  optionalPositiveDuration,
  optionalPositiveInt,
} from '../internal/validate.js';

/**
 * Active health checks of a group (`AddressGroupOptions.healthCheck`), as Envoy's: every host gets a
 * `GET path` every `interval` (jittered), one at a time; `unhealthyThreshold` failures in a row mark
 * it failing, and a failing host takes no calls while another host of the group is not failing;
 * `healthyThreshold` successes in a row bring it back. A host starts `unknown` (eligible), and its
 * first success marks it passing at once, as Envoy does at startup.
 *
 * @example
 * ```ts
 * new AddressGroup('dns://users.internal:8080', { healthCheck: { path: '/health', interval: 2_000 } });
 * ```
 */
export interface HealthCheckConfig {
  /** Path (and query) probed with GET, starting with `/`. Required. */
  readonly path: string;
  /** Time from the end of one probe of a host to the start of its next, ms, ±10 % jitter. @defaultValue 5_000 */
  readonly interval?: number;
  /** A probe without a response within this many ms fails (`TIMEOUT`). @defaultValue 1_000 */
  readonly timeout?: number;
  /** Successes in a row that make a failing host passing again. @defaultValue 2 */
  readonly healthyThreshold?: number;
  /** Failures in a row that make a host failing. @defaultValue 3 */
  readonly unhealthyThreshold?: number;
  /** Statuses that pass: one, or a list. @defaultValue any 2xx */
  readonly expectStatus?: number | readonly number[];
}

/** Default time between the probes of one host, ms (Envoy's examples use 5 s). */
export const DEFAULT_HEALTH_CHECK_INTERVAL = 5_000;
/** Default probe timeout, ms. */
export const DEFAULT_HEALTH_CHECK_TIMEOUT = 1_000;
/** Default successes in a row to pass again. */
export const DEFAULT_HEALTHY_THRESHOLD = 2;
/** Default failures in a row to fail. */
export const DEFAULT_UNHEALTHY_THRESHOLD = 3;
/**
 * Jitter of the probe schedule, as a fraction of `interval`: each wait is uniform in
 * `interval × [0.9, 1.1)`, and a new host's first probe comes within `interval × [0, 0.1)`, so the
 * probes of many hosts (and many clients) do not fall on the same tick.
 */
export const HEALTH_CHECK_JITTER = 0.1;

/** A {@link HealthCheckConfig} validated, defaults applied. */
export interface ResolvedHealthCheck {
  readonly path: string;
  readonly interval: number;
  readonly timeout: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** Whether a status passes. */
  readonly passes: (status: number) => boolean;
}

/** What a host's health check says: `unknown` until the first verdict (eligible meanwhile). */
export type HealthCheckStatus = 'passing' | 'failing' | 'unknown';

/** One host's checks: its status and the current run of successes or failures. */
export interface HostCheckState {
  readonly status: HealthCheckStatus;
  /** Successes in a row (0 after a failure). */
  readonly successes: number;
  /** Failures in a row (0 after a success). */
  readonly failures: number;
}

/** A host not checked yet. */
export const UNCHECKED: HostCheckState = Object.freeze({ status: 'unknown', successes: 0, failures: 0 });

const KEYS = ['path', 'interval', 'timeout', 'healthyThreshold', 'unhealthyThreshold', 'expectStatus'];
// Path characters a request target may hold as they are (no spaces, no controls, no '#').
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$/;

function isStatus(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599;
}

/** Validates `healthCheck`; `INVALID_ARGUMENT` naming `<field>.<name>` on anything wrong. */
export function resolveHealthCheck(input: unknown, field = 'options.healthCheck'): ResolvedHealthCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalidArgument(field, 'must be an object with a path');
  checkOptions(input, KEYS, field);
  const c = input as Partial<Record<string, unknown>>;
  if (typeof c.path !== 'string' || !PATH.test(c.path))
    throw invalidArgument(`${field}.path`, "must be a path starting with '/', percent-encoded");
  const expect = c.expectStatus;
  let passes: (status: number) => boolean;
  if (expect === undefined) passes = (s) => s >= 200 && s < 300;
  else if (isStatus(expect)) passes = (s) => s === expect;
  else if (Array.isArray(expect) && expect.length > 0 && expect.every(isStatus)) {
    const set = new Set<number>(expect);
    passes = (s) => set.has(s);
  } else
    throw invalidArgument(
      `${field}.expectStatus`,
      `must be a status from 100 to 599, or a non-empty list of them (got ${describeValue(expect)})`,
    );
  return {
    path: c.path,
    interval: optionalPositiveDuration(c.interval, `${field}.interval`) ?? DEFAULT_HEALTH_CHECK_INTERVAL,
    timeout: optionalPositiveDuration(c.timeout, `${field}.timeout`) ?? DEFAULT_HEALTH_CHECK_TIMEOUT,
    healthyThreshold:
      optionalPositiveInt(c.healthyThreshold, `${field}.healthyThreshold`, 1_000) ??
      DEFAULT_HEALTHY_THRESHOLD,
    unhealthyThreshold:
      optionalPositiveInt(c.unhealthyThreshold, `${field}.unhealthyThreshold`, 1_000) ??
      DEFAULT_UNHEALTHY_THRESHOLD,
    passes,
  };
}

/**
 * One probe's result applied to a host's state. Pure. `unhealthyThreshold` failures in a row make
 * any host failing; `healthyThreshold` successes in a row make a failing host passing; an `unknown`
 * host passes on its first success (Envoy's startup rule: a new host is not kept out for
 * `healthyThreshold` intervals).
 */
export function reduceCheck(
  state: HostCheckState,
  ok: boolean,
  config: Pick<ResolvedHealthCheck, 'healthyThreshold' | 'unhealthyThreshold'>,
): HostCheckState {
  if (ok) {
    const successes = state.successes + 1;
    const status = state.status !== 'failing' || successes >= config.healthyThreshold ? 'passing' : 'failing';
    return { status, successes, failures: 0 };
  }
  const failures = state.failures + 1;
  const status = failures >= config.unhealthyThreshold ? 'failing' : state.status;
  return { status, successes: 0, failures };
}

/** Wait before a host's next probe, ms: `interval × [0.9, 1.1)` for `random()` in [0, 1). */
export function probeDelay(interval: number, random: () => number): number {
  return interval * (1 - HEALTH_CHECK_JITTER + 2 * HEALTH_CHECK_JITTER * random());
}

/** Wait before a new host's first probe, ms: `interval × [0, 0.1)`. */
export function firstProbeDelay(interval: number, random: () => number): number {
  return interval * HEALTH_CHECK_JITTER * random();
}
