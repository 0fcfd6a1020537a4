import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type zipkin from 'zipkin';
import { systemClock } from '../internal/clock.js';
import { b3MultiHeaders, b3SingleHeader, type B3Context } from './b3.js';
import type { TraceBackend } from './trace-backend.js';

type ZipkinModule = typeof zipkin;
type Decision = zipkin.option.IOption<boolean>;

/** The fields of a zipkin-js `Tracer` that its typings leave out (see {@link zipkinBackend}). */
interface TracerInternals {
  readonly localEndpoint?: { readonly serviceName?: string };
  readonly recorder?: zipkin.Recorder;
  readonly sampler?: { readonly evaluator?: unknown; shouldSample(id: zipkin.TraceId): Decision };
  readonly traceId128Bit?: boolean;
  readonly _sentinelTraceId?: zipkin.TraceId;
  readonly _startTimestamp?: number;
  readonly _startTick?: [number, number];
}

/** zipkin-js's `Record` (not exported by the package): the same fields and `toString`. */
class SpanRecord implements zipkin.Record {
  constructor(
    readonly traceId: zipkin.TraceId,
    readonly timestamp: number,
    readonly annotation: zipkin.IAnnotation,
  ) {}

  toString(): string {
    return `Record(traceId=${this.traceId.toString()}, annotation=${String(this.annotation)})`;
  }
}

/**
 * The one place that speaks zipkin-js. The module is loaded from the tracer's side only when tracing
 * is configured, so rxhttp works without the optional `zipkin` peer dependency.
 *
 * Spans get the records zipkin-js's own instrumentation makes (ServiceName, Rpc, ClientSend,
 * ServerAddr, a BinaryAnnotation per tag, a Message per annotation, ClientRecv; LocalOperationStart
 * and Stop for local spans), but each goes straight to the tracer's recorder, stamped with one reading
 * of the tracer's clock per span event. `Tracer.recordAnnotation` needs the id in scope (`letId`: a
 * closure and two context switches per span event) and reads the context, the sampling decision and
 * the clock again for every record; that was most of the cost of a traced call. This relies on
 * zipkin-js 0.22 internals, untyped but set by every `Tracer`: `recorder`, `_startTimestamp` and
 * `_startTick`. Without them it falls back to the public `letId` + `recordAnnotation`, at the old cost.
 *
 * Ids are zipkin `TraceId`s, built as `Tracer.createRootId` / `createChildId` build them but cheaper
 * (see {@link idFactory}): those cost ~0.5 µs for a root, mostly 16 `Math.random()` calls and string
 * concatenations per id, and allocated ~1 KB.
 *
 * Annotations are value objects that recorders only read, so one is reused while its content repeats
 * (a one-entry memo per tag key, per span name, per remote endpoint): a traced call used to allocate
 * about ten of them.
 */
export function zipkinBackend(
  tracer: zipkin.Tracer,
  options: ZipkinBackendOptions = {},
): TraceBackend<zipkin.TraceId> {
  const b3Single = options.b3Single ?? false;
  const z = createRequire(import.meta.url)('zipkin') as ZipkinModule;
  const { Annotation, InetAddress } = z;
  const internals = tracer as unknown as TracerInternals;
  const localServiceName = internals.localEndpoint?.serviceName;
  // Stateless annotations are made once: zipkin-js builds ClientSend and its kin through Babel's
  // Reflect.construct helper, ~0.4 µs each on Node 20. Recorders only read them.
  const serviceName =
    localServiceName === undefined ? undefined : new Annotation.ServiceName(localServiceName);
  const clientSend = new Annotation.ClientSend();
  const clientRecv = new Annotation.ClientRecv();
  const localStop = new Annotation.LocalOperationStop();
  const tags = new Map<string, zipkin.Annotation.BinaryAnnotation>();
  let rpc: zipkin.Annotation.Rpc | undefined;
  let localStart: zipkin.Annotation.LocalOperationStart | undefined;
  let message: zipkin.Annotation.Message | undefined;
  let serverAddr: zipkin.Annotation.ServerAddr | undefined;
  let lastHost: string | undefined;
  let lastInet: zipkin.InetAddress | undefined;
  const ids = idFactory(z, tracer);

  const { recorder, _startTimestamp: startTimestamp, _startTick: startTick } = internals;
  let write: (id: zipkin.TraceId, at: number, annotation: zipkin.IAnnotation) => void;
  let now: () => number;
  let atSystemTime: (epochMs: number) => number;
  if (
    typeof recorder?.record === 'function' &&
    typeof startTimestamp === 'number' &&
    Array.isArray(startTick)
  ) {
    write = (id, at, annotation) => recorder.record(new SpanRecord(id, at, annotation));
    now = tracerClock(startTimestamp, startTick);
    atSystemTime = systemToTracerClock(startTimestamp, startTick);
  } else {
    write = (id, _at, annotation) => tracer.letId(id, () => tracer.recordAnnotation(annotation));
    now = () => 0;
    atSystemTime = now;
  }

  return {
    childOfCurrent: ids.childOfCurrent,
    newChild: ids.newChild,
    inject(id, headers) {
      const ctx = b3Context(id);
      const b3 = b3MultiHeaders(ctx);
      if (b3Single) b3['b3'] = b3SingleHeader(ctx);
      return headers === undefined ? b3 : Object.assign(headers, b3);
    },
    spanName: (method) => method.toLowerCase(),
    // As Tracer.recordAnnotation, which drops records of an id not (yet) sampled.
    recorded: (id) => id.sampled.getOrElse(false),
    now,
    atSystemTime,
    startClient(id, name, remoteServiceName, attempt, at) {
      const remote = attempt.address;
      if (serviceName !== undefined) write(id, at, serviceName);
      if (rpc?.name !== name) rpc = new Annotation.Rpc(name);
      write(id, at, rpc);
      write(id, at, clientSend);
      const { host, port } = remote;
      if (host !== lastHost || lastInet === undefined) {
        lastHost = host;
        lastInet = new InetAddress(host);
        serverAddr = undefined;
      }
      if (
        serverAddr === undefined ||
        serverAddr.serviceName !== remoteServiceName ||
        serverAddr.port !== port
      ) {
        serverAddr = new Annotation.ServerAddr({ serviceName: remoteServiceName, host: lastInet, port });
      }
      write(id, at, serverAddr);
    },
    startLocal(id, name, at) {
      if (serviceName !== undefined) write(id, at, serviceName);
      if (localStart?.name !== name) localStart = new Annotation.LocalOperationStart(name);
      write(id, at, localStart);
    },
    annotate(id, value, at) {
      if (message?.message !== value) message = new Annotation.Message(value);
      write(id, at, message);
    },
    tag(id, key, value, at) {
      let annotation = tags.get(key);
      if (annotation?.value !== value) {
        annotation = new Annotation.BinaryAnnotation(key, value);
        tags.set(key, annotation);
      }
      write(id, at, annotation);
    },
    finish(id, kind, at) {
      write(id, at, kind === 'client' ? clientRecv : localStop);
    },
  };
}

/** Options of {@link zipkinBackend}. */
export interface ZipkinBackendOptions {
  /** Also send the single `b3` header beside the multi headers. @defaultValue false */
  readonly b3Single?: boolean;
}

/** The B3 fields of a zipkin `TraceId`. */
function b3Context(id: zipkin.TraceId): B3Context {
  const parent = id.parentSpanId;
  const decision = id.sampled;
  return {
    traceId: id.traceId,
    spanId: id.spanId,
    parentSpanId: parent.present ? parent.getOrElse('') : undefined,
    sampled: decision.present ? decision.getOrElse(false) : undefined,
    debug: id.isDebug(),
  };
}

/** zipkin-js's `now()` for this tracer: epoch µs at its construction plus whole µs of `process.hrtime` since. */
function tracerClock(startTimestamp: number, startTick: [number, number]): () => number {
  return () => {
    // Indexed, not destructured: array destructuring goes through the iterator protocol.
    const elapsed = process.hrtime(startTick);
    return startTimestamp + Math.floor(elapsed[0] * 1e6 + elapsed[1] / 1e3);
  };
}

/**
 * zipkin-js's clock at a `systemClock` reading. Both count from the monotonic clock, so they differ by
 * a constant, measured once between two readings of the tracer's clock.
 */
function systemToTracerClock(
  startTimestamp: number,
  startTick: [number, number],
): (epochMs: number) => number {
  const before = process.hrtime(startTick);
  const epochMs = systemClock.now();
  const after = process.hrtime(startTick);
  const elapsedMicros = ((before[0] + after[0]) * 1e6 + (before[1] + after[1]) / 1e3) / 2;
  const offset = startTimestamp + elapsedMicros - epochMs * 1000;
  return (ms) => Math.floor(ms * 1000 + offset);
}

type IdSource = Pick<TraceBackend<zipkin.TraceId>, 'childOfCurrent' | 'newChild'>;

/**
 * Span ids as `Tracer.createRootId` and `createChildId` make them (same trace ids, parents, sampling
 * decisions, one sampler question per new decision), built without their costs: ids come from a
 * crypto random pool ({@link randomSpanId}), a `TraceId` is filled in directly (its constructor
 * destructures a parameter object and validates every option), and a plain `Sampler` gets its
 * evaluator called directly (its `shouldSample` allocates a closure and a `Some` per question).
 * Whatever does not look like zipkin-js 0.22 — another sampler class, a debug or foreign parent, a
 * `TraceId` with other fields — goes to the tracer's own methods.
 */
function idFactory(z: ZipkinModule, tracer: zipkin.Tracer): IdSource {
  const internals = tracer as unknown as TracerInternals;
  const { option } = z;
  const { sampler, _sentinelTraceId: sentinel } = internals;
  const make = sampler === undefined || sentinel === undefined ? undefined : leanTraceId(z);
  if (make === undefined || sampler === undefined) {
    return {
      childOfCurrent() {
        const current = tracer.id;
        // zipkin-js hides whether a context is in scope (tracer.id falls back to a sentinel), but a
        // child of the sentinel comes back as a new root, without a parent span id.
        const id = tracer.createChildId(current);
        return id.parentSpanId.present ? { id, parent: current } : { id };
      },
      newChild: (parent) => tracer.createChildId(parent),
    };
  }
  const evaluator =
    sampler.shouldSample === z.sampler.Sampler.prototype.shouldSample &&
    typeof sampler.evaluator === 'function'
      ? (sampler as { evaluator(id: zipkin.TraceId): unknown })
      : undefined;
  const yes = new option.Some(true);
  const no = new option.Some(false);
  // What Sampler#shouldSample answers for an id without a decision, asked once.
  const decide = (id: zipkin.TraceId): Decision => {
    if (evaluator === undefined) return sampler.shouldSample(id);
    const sampled = evaluator.evaluator(id);
    return sampled === true ? yes : sampled === false ? no : new option.Some(sampled as boolean);
  };
  const newChild = (parent: zipkin.TraceId): zipkin.TraceId => {
    if (!(parent instanceof z.TraceId) || parent.isDebug()) return tracer.createChildId(parent);
    const decided = parent.sampled;
    const id = make(parent.traceId, new option.Some(parent.spanId), randomSpanId(), decided);
    if (!decided.present) id._sampled = decide(id);
    return id;
  };
  return {
    childOfCurrent() {
      const current = tracer.id;
      if (current !== sentinel) return { id: newChild(current), parent: current };
      const spanId = randomSpanId();
      const traceId = internals.traceId128Bit === true ? randomSpanId() + spanId : spanId;
      const id = make(traceId, option.None, spanId, option.None);
      id._sampled = decide(id);
      return { id };
    },
    newChild,
  };
}

/** A `TraceId` whose fields are written directly: what its constructor stores, nothing else. */
type LeanTraceId = zipkin.TraceId & { _sampled: Decision };
type MakeTraceId = (
  traceId: string,
  parentId: zipkin.option.IOption<string>,
  spanId: string,
  sampled: Decision,
) => LeanTraceId;

interface TraceIdFields {
  _traceId: string;
  _parentId: zipkin.option.IOption<string>;
  _spanId: string;
  _sampled: Decision;
  _debug: boolean;
  _shared: boolean;
}

let leanFor: ZipkinModule['TraceId'] | undefined;
let leanMake: MakeTraceId | undefined;

/**
 * A maker of non-debug, non-shared `TraceId`s that skips the constructor, or undefined when this
 * zipkin-js stores other fields than 0.22 does (checked once against a real instance).
 */
function leanTraceId(z: ZipkinModule): MakeTraceId | undefined {
  const { TraceId, option } = z;
  if (leanFor === TraceId) return leanMake;
  function Lean(
    this: TraceIdFields,
    traceId: string,
    parentId: zipkin.option.IOption<string>,
    spanId: string,
    sampled: Decision,
  ): void {
    this._traceId = traceId;
    this._parentId = parentId;
    this._spanId = spanId;
    this._sampled = sampled;
    this._debug = false;
    this._shared = false;
  }
  Lean.prototype = TraceId.prototype;
  const Ctor = Lean as unknown as new (...args: Parameters<MakeTraceId>) => LeanTraceId;
  const parent = new option.Some('0000000000000001');
  const sampled = new option.Some(true);
  const real = new TraceId({ traceId: 't', parentId: parent, spanId: 's', sampled });
  const lean = new Ctor('t', parent, 's', sampled);
  const same =
    lean instanceof TraceId &&
    JSON.stringify(Object.entries(lean)) === JSON.stringify(Object.entries(real)) &&
    lean.traceId === real.traceId &&
    lean.spanId === real.spanId &&
    lean.parentSpanId === real.parentSpanId &&
    lean.sampled === real.sampled &&
    lean.isDebug() === real.isDebug() &&
    lean.isShared() === real.isShared() &&
    lean.toString() === real.toString();
  leanFor = TraceId;
  leanMake = same
    ? (traceId, parentId, spanId, decided) => new Ctor(traceId, parentId, spanId, decided)
    : undefined;
  return leanMake;
}

/**
 * Span ids: 16 lower-hex characters cut from a string of 1024 ids' worth of crypto random bytes. The
 * cut is a slice of the pool string (no copy). `Buffer#toString('hex')` per id cost ~0.17 µs and
 * zipkin's generator ~0.4 µs; this costs ~0.02 µs, mostly `randomFillSync`, whose fixed cost is why
 * the pool is large.
 */
const idBytes = Buffer.alloc(8 * 1024);
let idPool = '';
let idOffset = 0;
function randomSpanId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idBytes);
    idPool = idBytes.toString('hex');
    idOffset = 0;
  }
  const id = idPool.slice(idOffset, idOffset + 16);
  idOffset += 16;
  return id;
}
