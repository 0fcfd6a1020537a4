import { applyHeadersModel } from './header-model.js';

/**
 * A model of what `new Client(config)` accepts, written from the config tables of API.md and README
 * (durations in ms a Node timer can wait, `connections` 1–65 536, the breaker and retry-budget tables,
 * `{ registry }`, Node's TLS option types), not from `lib/client/config.ts`, so the property spec can
 * compare. It gives every field at fault, as `XhttpError.field` names it; the code must accept only
 * when there is none, and otherwise name one of them.
 */
const MAX_MS = 2_147_483_647;
const KEYS = [
  'requestTimeout',
  'connectTimeout',
  'headersTimeout',
  'bodyTimeout',
  'keepAliveTimeout',
  'connections',
  'circuitBreaker',
  'retryBudget',
  'metrics',
  'tracer',
  'remoteServiceName',
  'b3Single',
  'openTelemetry',
  'headers',
  'tls',
  'scheduler',
  'random',
  'deadlineHeader',
];
const BREAKER_KEYS = [
  'failureRateThreshold',
  'minimumRequestThreshold',
  'trialRequestInterval',
  'circuitOpenWindow',
  'counterSlidingWindow',
  'counterUpdateInterval',
  'isFailure',
  'key',
];

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** A duration a timer can wait: 0 allowed unless `positive`. */
const durationOk = (v: unknown, positive: boolean): boolean =>
  v === undefined || (isNumber(v) && (positive ? v > 0 : v >= 0) && v <= MAX_MS);
const ratioOk = (v: unknown): boolean => v === undefined || (isNumber(v) && v >= 0 && v <= 1);
/** Node's TLS `ca`, `cert` and `key`: a string, a Buffer, TypedArray or DataView, or an array of them. */
const pemOk = (v: unknown): boolean => {
  const one = (x: unknown) => typeof x === 'string' || ArrayBuffer.isView(x);
  return v === undefined || one(v) || (Array.isArray(v) && v.every(one));
};

/** Unknown own keys as `<field>.<key>` (or the bare key at the top); false when not an object at all. */
function shape(
  v: unknown,
  keys: readonly string[],
  field: string,
  wrong: Set<string>,
): v is Record<string, unknown> {
  if (!isPlain(v)) {
    wrong.add(field);
    return false;
  }
  for (const k of Object.keys(v)) if (!keys.includes(k)) wrong.add(field === 'config' ? k : `${field}.${k}`);
  return true;
}

/** Fields of `config` the model finds wrong; empty when `new Client(config)` must succeed. */
export function configModel(config: unknown): Set<string> {
  const wrong = new Set<string>();
  if (config === undefined) return wrong;
  if (!shape(config, KEYS, 'config', wrong)) return wrong;
  const get = (k: string) => own(config, k);
  for (const k of ['requestTimeout', 'connectTimeout', 'keepAliveTimeout'])
    if (!durationOk(get(k), true)) wrong.add(k);
  for (const k of ['headersTimeout', 'bodyTimeout']) if (!durationOk(get(k), false)) wrong.add(k);
  const connections = get('connections');
  if (
    connections !== undefined &&
    !(Number.isInteger(connections) && (connections as number) >= 1 && (connections as number) <= 65_536)
  )
    wrong.add('connections');

  const metrics = get('metrics');
  if (metrics !== undefined && shape(metrics, ['registry'], 'metrics', wrong)) {
    const r = own(metrics, 'registry') as Record<string, unknown> | undefined;
    const methods = ['metrics', 'getSingleMetric', 'registerMetric'];
    if (typeof r !== 'object' || r === null || !methods.every((m) => typeof r[m] === 'function'))
      wrong.add('metrics.registry');
  }
  const tracer = get('tracer');
  if (tracer !== undefined && (typeof tracer !== 'object' || tracer === null)) wrong.add('tracer');
  const name = get('remoteServiceName');
  if (name !== undefined && typeof name !== 'string') wrong.add('remoteServiceName');
  const b3 = get('b3Single');
  if (b3 !== undefined && typeof b3 !== 'boolean') wrong.add('b3Single');
  const otel = get('openTelemetry');
  if (otel !== undefined && otel !== true) {
    const parts = { tracerProvider: 'getTracer', meterProvider: 'getMeter', propagator: 'inject' };
    if (shape(otel, Object.keys(parts), 'openTelemetry', wrong)) {
      for (const [k, method] of Object.entries(parts)) {
        const v = own(otel, k) as Record<string, unknown> | null | undefined;
        if (v !== undefined && (typeof v !== 'object' || v === null || typeof v[method] !== 'function'))
          wrong.add(`openTelemetry.${k}`);
      }
    }
  }
  const random = get('random');
  if (random !== undefined && typeof random !== 'function') wrong.add('random');
  // deadlineHeader: false, or a header name a call could set (a token, not a framing header).
  const deadlineHeader = get('deadlineHeader');
  if (deadlineHeader !== undefined && deadlineHeader !== false) {
    const named =
      typeof deadlineHeader === 'string'
        ? applyHeadersModel(
            Object.create(null) as Record<string, string>,
            { [deadlineHeader]: '1' },
            'deadlineHeader',
          )
        : { ok: false as const, field: 'deadlineHeader' };
    if (!named.ok) wrong.add(named.field);
  }
  const scheduler = get('scheduler') as { now?: unknown } | undefined;
  if (scheduler !== undefined && typeof scheduler?.now !== 'function') wrong.add('scheduler');

  const tls = get('tls');
  if (
    tls !== undefined &&
    shape(tls, ['ca', 'cert', 'key', 'servername', 'checkServerIdentity'], 'tls', wrong)
  ) {
    const check = own(tls, 'checkServerIdentity');
    if (check !== undefined && typeof check !== 'function') wrong.add('tls.checkServerIdentity');
    const servername = own(tls, 'servername');
    if (servername !== undefined && typeof servername !== 'string') wrong.add('tls.servername');
    for (const k of ['ca', 'cert', 'key']) if (!pemOk(own(tls, k))) wrong.add(`tls.${k}`);
  }

  const headers = applyHeadersModel(Object.create(null) as Record<string, string>, get('headers'), 'headers');
  if (!headers.ok) wrong.add(headers.field);

  const breaker = get('circuitBreaker');
  if (breaker !== undefined && breaker !== false && shape(breaker, BREAKER_KEYS, 'circuitBreaker', wrong)) {
    const b = (k: string) => own(breaker, k);
    const f = (k: string) => `circuitBreaker.${k}`;
    if (!ratioOk(b('failureRateThreshold'))) wrong.add(f('failureRateThreshold'));
    const min = b('minimumRequestThreshold');
    if (min !== undefined && !(Number.isSafeInteger(min) && (min as number) >= 0))
      wrong.add(f('minimumRequestThreshold'));
    for (const k of ['trialRequestInterval', 'circuitOpenWindow'])
      if (!durationOk(b(k), false)) wrong.add(f(k));
    const window = b('counterSlidingWindow');
    const bucket = b('counterUpdateInterval');
    if (!durationOk(window, true)) wrong.add(f('counterSlidingWindow'));
    if (!durationOk(bucket, true)) wrong.add(f('counterUpdateInterval'));
    // A bucket is never wider than the window (defaults: 20 000 ms window, 1 000 ms buckets).
    if (
      durationOk(window, true) &&
      durationOk(bucket, true) &&
      ((bucket as number) ?? 1_000) > ((window as number) ?? 20_000)
    )
      wrong.add(f('counterUpdateInterval'));
    for (const k of ['isFailure', 'key'])
      if (b(k) !== undefined && typeof b(k) !== 'function') wrong.add(f(k));
  }

  const budget = get('retryBudget');
  if (
    budget !== undefined &&
    budget !== false &&
    shape(budget, ['ratio', 'minRetriesPerSecond', 'ttl'], 'retryBudget', wrong)
  ) {
    if (!ratioOk(own(budget, 'ratio'))) wrong.add('retryBudget.ratio');
    const min = own(budget, 'minRetriesPerSecond');
    if (min !== undefined && !(isNumber(min) && min >= 0)) wrong.add('retryBudget.minRetriesPerSecond');
    const ttl = own(budget, 'ttl');
    if (ttl !== undefined && !(isNumber(ttl) && ttl >= 1_000 && ttl <= 60_000)) wrong.add('retryBudget.ttl');
  }
  return wrong;
}
