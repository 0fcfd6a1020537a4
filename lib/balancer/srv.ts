import type { Address } from '../types.js';

/**
 * SRV priority and weight of an address list, as every balancer honours them (RFC 2782): a pick
 * is made within the lowest priority value that has an eligible host, and its choice is weighed by
 * weight. Pure functions plus a per-list cache; `eligible.ts` applies them before the balancer.
 */

/**
 * Weight used for an address with `weight: 0`: RFC 2782 gives such SRV targets "a very small chance"
 * of selection next to weighted ones, and an equal share when every target has weight 0.
 */
export const ZERO_WEIGHT = 0.01;

/** Weight when `Address.weight` is absent or not a positive finite number. @defaultValue 1 */
export const DEFAULT_WEIGHT = 1;

/** Priority when `Address.priority` is absent: the most preferred tier. @defaultValue 0 */
export const DEFAULT_PRIORITY = 0;

/** The weight a balancer uses for `a`: {@link DEFAULT_WEIGHT} when absent or invalid, {@link ZERO_WEIGHT} for 0. */
export function weightOf(a: Address): number {
  const w = a.weight;
  if (w === undefined || !Number.isFinite(w) || w < 0) return DEFAULT_WEIGHT;
  return w === 0 ? ZERO_WEIGHT : w;
}

/** The priority of `a` (lower is preferred): {@link DEFAULT_PRIORITY} when absent or NaN. */
export function priorityOf(a: Address): number {
  const p = a.priority;
  return p === undefined || Number.isNaN(p) ? DEFAULT_PRIORITY : p;
}

/**
 * Hosts of one weight within a tier, after Finagle's `TrafficDistributor` weight classes: the class
 * is drawn with probability ∝ `weight × size`, and the balancer picks within it by its own rule, so
 * shares follow the weights exactly while load still steers among hosts of equal weight.
 */
export interface WeightClass {
  readonly weight: number;
  /** The class's hosts, in list order. */
  readonly addresses: readonly Address[];
}

/** The hosts of one priority value, split into weight classes. */
export interface SrvTier {
  readonly priority: number;
  /** Every host of the tier, in list order. */
  readonly addresses: readonly Address[];
  /** At least one; a single class when every host of the tier has the same weight. */
  readonly classes: readonly WeightClass[];
  /** Σ weight × size over the classes. */
  readonly total: number;
}

/** An address list's tiers, lowest priority value first. */
export interface SrvView {
  readonly tiers: readonly SrvTier[];
}

/** Splits `addresses` (all of one priority) into weight classes. O(n). */
export function srvTier(priority: number, addresses: readonly Address[]): SrvTier {
  const byWeight = new Map<number, Address[]>();
  for (const a of addresses) {
    const w = weightOf(a);
    const list = byWeight.get(w);
    if (list === undefined) byWeight.set(w, [a]);
    else list.push(a);
  }
  const classes: WeightClass[] = [];
  let total = 0;
  for (const [weight, list] of byWeight) {
    classes.push({ weight, addresses: list });
    total += weight * list.length;
  }
  return { priority, addresses, classes, total };
}

/**
 * The SRV view of a list, or `undefined` when SRV changes nothing: one priority and one weight
 * throughout (every list without `weight` and `priority`, and SRV lists of equal weights). O(n).
 */
export function buildSrvView(list: readonly Address[]): SrvView | undefined {
  const n = list.length;
  if (n === 0) return undefined;
  const p0 = priorityOf(list[0]!);
  const w0 = weightOf(list[0]!);
  let plain = true;
  for (let i = 1; i < n && plain; i++) plain = priorityOf(list[i]!) === p0 && weightOf(list[i]!) === w0;
  if (plain) return undefined;
  const byPriority = new Map<number, Address[]>();
  for (const a of list) {
    const p = priorityOf(a);
    const tier = byPriority.get(p);
    if (tier === undefined) byPriority.set(p, [a]);
    else tier.push(a);
  }
  const tiers = [...byPriority]
    .sort(([a], [b]) => a - b)
    .map(([priority, addresses]) => srvTier(priority, addresses));
  return { tiers };
}

/** Views by list: a group hands the same array to every pick until its addresses change. */
const views = new WeakMap<readonly Address[], SrvView | null>();
/** The last list asked about and its view: one comparison on the hot path of a busy group. */
let lastList: readonly Address[] | undefined;
let lastView: SrvView | undefined;

/**
 * {@link buildSrvView} cached per list object: the common case (the list of the previous pick)
 * costs one identity comparison, and a list without SRV metadata is never scanned twice.
 */
export function srvView(list: readonly Address[]): SrvView | undefined {
  if (list === lastList) return lastView;
  let view = views.get(list);
  if (view === undefined) {
    view = buildSrvView(list) ?? null;
    views.set(list, view);
  }
  lastList = list;
  lastView = view ?? undefined;
  return lastView;
}

/**
 * Draws a weight class ∝ `weight × size` (one random number; none when the tier has one class).
 *
 * @example drawClass(tier, ctx.random).addresses // the hosts the balancer then picks among
 */
export function drawClass(tier: SrvTier, random: () => number): WeightClass {
  const classes = tier.classes;
  if (classes.length === 1) return classes[0]!;
  let r = random() * tier.total;
  for (let i = 0; i < classes.length - 1; i++) {
    const c = classes[i]!;
    r -= c.weight * c.addresses.length;
    if (r < 0) return c;
  }
  return classes[classes.length - 1]!;
}
