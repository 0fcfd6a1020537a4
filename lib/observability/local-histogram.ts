import type { Metric, Registry, RegistryContentType } from 'prom-client';

/** One label set of a {@link LocalHistogram}: plain numbers, bumped on the hot path. */
export interface Series {
  /** The same object on every scrape, so prom-client's per-object label formatting cache hits. */
  readonly labels: Readonly<Record<string, string>>;
  readonly upperBounds: readonly number[];
  /** Observations per bucket, not cumulative; the last slot holds those above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** Hot path: a bucket found by a short loop, two additions; no label validation, no hashing. */
export function record(series: Series, value: number): void {
  // A NaN would poison the sum for good; prom-client throws on one, which here would reach no caller.
  if (!Number.isFinite(value)) return;
  const bounds = series.upperBounds;
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  series.counts[i]!++;
  series.sum += value;
  series.count++;
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/**
 * A Prometheus histogram kept in plain numbers and handed to prom-client only at scrape time.
 *
 * prom-client's `Histogram` validates and hashes the label object on every `observe()`, label
 * children included: about a microsecond per observation, two per call. This object is what a
 * `Registry` asks of a metric (`name`, `help`, `type`, `aggregator`, `get()`, `getForPromString()`,
 * `reset()`) and exports the very shape `Histogram#get()` does, so `metrics()`, `getMetricsAsJSON()`,
 * `getSingleMetric()` and `resetMetrics()` see no difference. A series shows once observed and leaves
 * on `reset()`, as prom-client's do.
 */
export class LocalHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** By label values: two cache keys that reduce to the same labels share one series. */
  readonly #series = new Map<string, Series>();

  constructor(
    registry: Registry<RegistryContentType>,
    readonly name: string,
    readonly help: string,
    readonly upperBounds: readonly number[],
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /**
   * The series of `labels`, created on first use: the cold path behind the callers' caches. Every
   * caller must build its labels in one key order, the order they are printed in.
   */
  series<L extends Record<string, string>>(labels: Readonly<L>): Series {
    const id = JSON.stringify(Object.values(labels));
    let series = this.#series.get(id);
    if (series === undefined) {
      const counts = new Float64Array(this.upperBounds.length + 1);
      series = { labels, upperBounds: this.upperBounds, counts, sum: 0, count: 0 };
      this.#series.set(id, series);
    }
    return series;
  }

  /** Zeroes in place: the callers' caches keep pointing at live series. */
  reset(): void {
    for (const s of this.#series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** As `Histogram#getForPromString()`: cumulative `_bucket` series with `le`, `+Inf`, `_sum`, `_count`. */
  getForPromString(): Promise<{
    name: string;
    help: string;
    type: string;
    values: ExportedValue[];
    aggregator: string;
  }> {
    const bucket = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    for (const s of this.#series.values()) {
      if (s.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += s.counts[i]!;
        const labels = { le: this.upperBounds[i]! };
        values.push({
          labels,
          sharedLabels: s.labels,
          value: cumulative,
          metricName: bucket,
          exemplar: null,
        });
      }
      values.push({
        labels: { le: '+Inf' },
        sharedLabels: s.labels,
        value: s.count,
        metricName: bucket,
        exemplar: null,
      });
      values.push({
        labels: {},
        sharedLabels: s.labels,
        value: s.sum,
        metricName: `${this.name}_sum`,
        exemplar: undefined,
      });
      values.push({
        labels: {},
        sharedLabels: s.labels,
        value: s.count,
        metricName: `${this.name}_count`,
        exemplar: undefined,
      });
    }
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, values, aggregator });
  }

  /** As `Histogram#get()`: the series labels merged into each value's own. */
  async get(): ReturnType<LocalHistogram['getForPromString']> {
    const data = await this.getForPromString();
    const values = data.values.map(({ sharedLabels, labels, ...v }) => ({
      ...v,
      labels: { ...labels, ...sharedLabels },
    }));
    return { ...data, values };
  }
}
