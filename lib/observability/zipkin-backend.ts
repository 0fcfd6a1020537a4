import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type zipkin from 'zipkin';
import type { TraceBackend } from './tracing.js';

type ZipkinModule = typeof zipkin;

/** The fields of a zipkin-js `Tracer` that its typings leave out (see {@link zipkinBackend}). */
interface TracerInternals {
  readonly localEndpoint?: { readonly serviceName?: string };
  readonly recorder?: zipkin.Recorder;
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
 * the clock again for every record; that was most of the cost of a traced call. This relies on three
 * zipkin-js internals, untyped but set by every 0.22 `Tracer`: `recorder`, `_startTimestamp` and
 * `_startTick`. Without them it falls back to the public `letId` + `recordAnnotation`, at the old cost.
 */
export function zipkinBackend(tracer: zipkin.Tracer): TraceBackend<zipkin.TraceId> {
  const z = createRequire(import.meta.url)('zipkin') as ZipkinModule;
  const { Annotation, InetAddress, TraceId, option } = z;
  const internals = tracer as unknown as TracerInternals;
  const localServiceName = internals.localEndpoint?.serviceName;
  // Stateless annotations are made once: zipkin-js builds ClientSend and its kin through Babel's
  // Reflect.construct helper, ~0.4 µs each on Node 20. Recorders only read them.
  const serviceName =
    localServiceName === undefined ? undefined : new Annotation.ServiceName(localServiceName);
  const clientSend = new Annotation.ClientSend();
  const clientRecv = new Annotation.ClientRecv();
  const localStop = new Annotation.LocalOperationStop();
  // One-entry memo: consecutive attempts mostly go to the same host.
  let lastHost: string | undefined;
  let lastInet: zipkin.InetAddress | undefined;

  const { recorder, _startTimestamp: startTimestamp, _startTick: startTick } = internals;
  let write: (id: zipkin.TraceId, at: number, annotation: zipkin.IAnnotation) => void;
  let now: () => number;
  if (
    typeof recorder?.record === 'function' &&
    typeof startTimestamp === 'number' &&
    Array.isArray(startTick)
  ) {
    write = (id, at, annotation) => recorder.record(new SpanRecord(id, at, annotation));
    now = tracerClock(startTimestamp, startTick);
  } else {
    write = (id, _at, annotation) => tracer.letId(id, () => tracer.recordAnnotation(annotation));
    now = () => 0;
  }

  return {
    childOfCurrent() {
      const current = tracer.id;
      // zipkin-js hides whether a context is in scope (tracer.id falls back to a sentinel), but a child
      // of the sentinel comes back as a new root, without a parent span id.
      const id = tracer.createChildId(current);
      return id.parentSpanId.present ? { id, parent: current } : { id };
    },
    newChild(parent) {
      // What Tracer.createChildId makes for a parent whose sampling is decided, with a cheaper span id
      // (its generator is 16 Math.random() calls and 16 concatenations). An undecided parent, or one
      // from another copy of zipkin-js, goes to the tracer, which asks its sampler.
      if (!(parent instanceof TraceId) || !parent.sampled.present) return tracer.createChildId(parent);
      return new TraceId({
        traceId: parent.traceId,
        parentId: new option.Some(parent.spanId),
        spanId: randomSpanId(),
        sampled: parent.sampled,
        debug: parent.isDebug(),
      });
    },
    propagation(id) {
      const parent = id.parentSpanId;
      const decision = id.sampled;
      return {
        traceId: id.traceId,
        spanId: id.spanId,
        parentSpanId: parent.present ? parent.getOrElse('') : undefined,
        sampled: decision.present ? decision.getOrElse(false) : undefined,
        debug: id.isDebug(),
      };
    },
    // As Tracer.recordAnnotation, which drops records of an id not (yet) sampled.
    recorded: (id) => id.sampled.getOrElse(false),
    now,
    startClient(id, name, remoteServiceName, remote, at) {
      if (serviceName !== undefined) write(id, at, serviceName);
      write(id, at, new Annotation.Rpc(name));
      write(id, at, clientSend);
      if (remote.host !== lastHost || lastInet === undefined) {
        lastHost = remote.host;
        lastInet = new InetAddress(remote.host);
      }
      write(
        id,
        at,
        new Annotation.ServerAddr({ serviceName: remoteServiceName, host: lastInet, port: remote.port }),
      );
    },
    startLocal(id, name, at) {
      if (serviceName !== undefined) write(id, at, serviceName);
      write(id, at, new Annotation.LocalOperationStart(name));
    },
    annotate(id, value, at) {
      write(id, at, new Annotation.Message(value));
    },
    tag(id, key, value, at) {
      write(id, at, new Annotation.BinaryAnnotation(key, value));
    },
    finish(id, kind, at) {
      write(id, at, kind === 'client' ? clientRecv : localStop);
    },
  };
}

/** zipkin-js's `now()` for this tracer: epoch µs at its construction plus whole µs of `process.hrtime` since. */
function tracerClock(startTimestamp: number, startTick: [number, number]): () => number {
  return () => {
    const [s, ns] = process.hrtime(startTick);
    return startTimestamp + Math.floor(s * 1e6 + ns / 1e3);
  };
}

/** Span ids: 8 random bytes in lower hex, cut from a pool refilled 256 ids at a time. */
const idPool = Buffer.alloc(8 * 256);
let idOffset = idPool.length;
function randomSpanId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + 8);
  idOffset += 8;
  return id;
}
