import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { invalidArgument } from '../errors.js';
import { optionalPositiveInt } from '../internal/validate.js';
import { CircuitBreaker, type StandaloneBreakerConfig } from '../operators/breaker.js';

/**
 * Most origins an {@link OriginBreakers} keeps a breaker for. Past it the least recently used one
 * is dropped (its origin starts afresh, closed, when called again): a page that calls many origins
 * (a CDN per asset, an id in a host name) cannot grow the map without end.
 * @defaultValue 256
 */
export const DEFAULT_MAX_ORIGINS = 256;

/** Upper bound of `maxOrigins`: past this many breakers, a per-origin map is a leak, not a cache. */
const MAX_MAX_ORIGINS = 65_536;

/** Options of {@link OriginBreakers}. */
export interface OriginBreakersOptions {
  /** Breakers kept at most, least recently used dropped first: 1 to 65 536. @defaultValue {@link DEFAULT_MAX_ORIGINS} */
  readonly maxOrigins?: number;
  /** Time source of the breakers; a `TestScheduler` for virtual time. @defaultValue asyncScheduler */
  readonly scheduler?: SchedulerLike;
}

/**
 * One {@link CircuitBreaker} per origin (`https://api.example.com:8443`), made on first use with one
 * shared config and kept in a bounded LRU map. `rxhttpInterceptor` makes one unless given one: pass
 * your own to watch the breakers or to control them by hand (`forceOpen`, `forceClose`, `reset`).
 *
 * @example
 * ```ts
 * const breakers = new OriginBreakers({ minimumRequestThreshold: 5, circuitOpenWindow: 10_000 });
 * provideHttpClient(withInterceptors([rxhttpInterceptor({ breakers })]));
 * breakers.get('https://api.example.com').snapshot$.subscribe((s) => console.log(s.state));
 * ```
 */
export class OriginBreakers {
  readonly #config: StandaloneBreakerConfig | undefined;
  readonly #scheduler: SchedulerLike;
  readonly #max: number;
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recent.
  readonly #breakers = new Map<string, CircuitBreaker>();

  /**
   * @param config - every breaker's settings, as `CircuitBreaker`'s; checked here, so a bad one
   *   throws `INVALID_ARGUMENT` naming the field (`circuitBreaker.failureRateThreshold`, …) at once.
   * @param options - the bound and the time source.
   */
  constructor(config?: StandaloneBreakerConfig, options: OriginBreakersOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw invalidArgument('breakers', 'options must be an object');
    this.#max =
      optionalPositiveInt(options.maxOrigins, 'breakers.maxOrigins', MAX_MAX_ORIGINS) ?? DEFAULT_MAX_ORIGINS;
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.#config = config;
    // Validate now rather than on the first request of some origin.
    new CircuitBreaker(config, this.#scheduler);
  }

  /** The breaker of `origin`, made (closed) when there is none; marks it most recently used. */
  get(origin: string): CircuitBreaker {
    let breaker = this.#breakers.get(origin);
    if (breaker !== undefined) {
      this.#breakers.delete(origin);
    } else {
      breaker = new CircuitBreaker(this.#config, this.#scheduler);
      if (this.#breakers.size >= this.#max) {
        const oldest = this.#breakers.keys().next();
        if (oldest.done !== true) this.#breakers.delete(oldest.value);
      }
    }
    this.#breakers.set(origin, breaker);
    return breaker;
  }

  /** The breaker of `origin` if there is one, without making one or touching the LRU order. */
  peek(origin: string): CircuitBreaker | undefined {
    return this.#breakers.get(origin);
  }

  /** The origins with a breaker, least recently used first. */
  origins(): string[] {
    return [...this.#breakers.keys()];
  }

  /** How many breakers are kept. */
  get size(): number {
    return this.#breakers.size;
  }
}
