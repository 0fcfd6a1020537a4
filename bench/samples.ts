/**
 * One contender's figures for one round of the throughput run, and the two ways the tables reduce
 * them: the median over rounds, and the median over rounds of a per-round ratio between contenders.
 */
import type { ContenderName } from './contenders.js';
import { median } from './util.js';

export interface Sample {
  readonly rps: number;
  /** Client user CPU per request, µs. */
  readonly userUs: number;
  /** Client system CPU per request, µs. */
  readonly sysUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** The server child's user + system CPU per request, µs. */
  readonly serverUs: number;
  readonly errors: number;
}

/** Every round's sample, per contender, in round order (round i of each was run in the same pass). */
export type Samples = Map<ContenderName, Sample[]>;

/** Median over rounds of a per-round ratio between two contenders. */
export function ratio(s: Samples, a: ContenderName, b: ContenderName, f: (x: Sample) => number): number {
  const xs = s.get(a)!;
  const ys = s.get(b)!;
  return median(xs.map((x, i) => f(x) / f(ys[i]!)));
}

export function med(s: Samples, a: ContenderName, f: (x: Sample) => number): number {
  return median(s.get(a)!.map(f));
}
