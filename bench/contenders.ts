/**
 * Every HTTP client of the throughput run, each set up against one origin and each reading the whole
 * body as text, so that every row does the same work. Each contender owns its connection pool.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { defer, mergeMap, type Observable } from 'rxjs';
import { Agent, interceptors, Pool, type Dispatcher } from 'undici';
import { Registry } from 'prom-client';
import zipkin from 'zipkin';
import {
  context,
  ROOT_CONTEXT,
  ProxyTracerProvider,
  trace,
  type Context,
  type ContextManager,
  type TracerProvider,
} from '@opentelemetry/api';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { circuitBreaker, handleAll, retry, SamplingBreaker, timeout, TimeoutStrategy, wrap } from 'cockatiel';
import CircuitBreaker from 'opossum';
import got from 'got';
import axios from 'axios';
import { pathToFileURL } from 'node:url';
import { arg, buildAt, dist } from './util.js';

type Rxhttp = typeof import('../lib/index.js');

/** node-fetch 2 ships no types; this is all the bench uses of it. */
type NodeFetch = (url: string, init: { agent: http.Agent }) => Promise<{ text(): Promise<string> }>;
const nodeFetch = createRequire(import.meta.url)('node-fetch') as NodeFetch;

export interface Contender {
  readonly name: string;
  /** One call as a Promise (the closed-loop runner awaits it)… */
  readonly call?: () => Promise<unknown>;
  /** …or as an Observable (driven by `mergeMap` with the same concurrency). */
  readonly call$?: () => Observable<unknown>;
  close(): Promise<void>;
}

/** Connections per origin for every contender (the highest concurrency measured). */
export const CONNECTIONS = 64;

/** The cheapest way to get a buffered response out of undici: `dispatch` with a bare handler. */
export function dispatchGet(pool: Dispatcher, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pool.dispatch({ path, method: 'GET' }, {
      onConnect() {},
      onHeaders: () => true,
      onData(chunk: Buffer) {
        chunks.push(chunk);
        return true;
      },
      onComplete: () => resolve(Buffer.concat(chunks).toString()),
      onError: reject,
    } as Dispatcher.DispatchHandler);
  });
}

function undiciPool(origin: string): Pool {
  return new Pool(origin, { connections: CONNECTIONS });
}

function nodeAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
}

/** rxhttp per-call options for the "full chain armed" rows: retry set but never triggered, a deadline. */
export const RX_CALL = { retry: { maxAttempts: 3 }, timeout: 10_000 } as const;

/** A silent zipkin-js tracer: every trace sampled, spans recorded into nothing. */
export function silentTracer(): zipkin.Tracer {
  return new zipkin.Tracer({
    ctxImpl: new zipkin.ExplicitContext(),
    recorder: { record: () => undefined } as unknown as zipkin.Recorder,
    sampler: new zipkin.sampler.Sampler(zipkin.sampler.alwaysSample),
    localServiceName: 'bench-client',
  });
}

/**
 * An OpenTelemetry SDK tracer provider sampling every trace, its spans batched to an exporter that
 * drops them (what a service's SDK does, minus the network). No global context manager is set: one
 * would put async-hooks bookkeeping on every contender of this process, so each call gets an
 * INTERNAL root span beside its CLIENT span: two spans per call, more than under a server span.
 */
/**
 * The least a context manager can be: the active context for the length of a synchronous `with`.
 * rxhttp reads the active context synchronously when a call starts, so this is all a contender
 * needs to make its calls under a parent span, without the async-hooks bookkeeping of
 * `@opentelemetry/context-async-hooks` falling on every other contender of the process.
 */
class SyncContextManager implements ContextManager {
  #active: Context = ROOT_CONTEXT;
  active(): Context {
    return this.#active;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.#active;
    this.#active = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#active = previous;
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#active = ROOT_CONTEXT;
    return this;
  }
}

export function silentTracerProvider(onExport?: (spans: number) => void): BasicTracerProvider {
  const exporter = {
    export: (spans: unknown[], done: (r: { code: number }) => void) => {
      onExport?.(spans.length);
      done({ code: 0 });
    },
    shutdown: async () => undefined,
  };
  return new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 8_192, maxExportBatchSize: 1_024 })],
  });
}

type RxClientConfig = NonNullable<ConstructorParameters<Rxhttp['Client']>[0]>;

/**
 * The build the `(before)` rows run: `--before <commit>` built once into `.tmp/` (bench/util.ts
 * `buildAt`), so a change and its parent are measured side by side in one run.
 */
async function beforeBuild(): Promise<{ rx: Rxhttp; sha: string }> {
  const ref = arg('before');
  if (ref === undefined) throw new Error('the (before) contenders need --before <commit>');
  const { sha, dir } = buildAt(ref);
  return { rx: (await import(pathToFileURL(`${dir}/dist/index.js`).href)) as Rxhttp, sha };
}

async function rxClient(port: number, extra: Partial<RxClientConfig> = {}, build?: Rxhttp) {
  const rx = build ?? (await dist<Rxhttp>('index'));
  // Full chain: default breaker on, default retry budget, a one-host group (p2c-ewma, the default).
  const client = new rx.Client({ connections: CONNECTIONS, requestTimeout: 10_000, ...extra });
  const group = new rx.AddressGroup(`static://127.0.0.1:${port}`);
  client.register('bench', group);
  return {
    client,
    group,
    close: async () => {
      await client.close();
      group.close();
    },
  };
}

type RxClient = Awaited<ReturnType<typeof rxClient>>;

/** The full chain's Promise row: `client.get`, the body read as text. */
function rxPromise(name: string, rx: RxClient): Contender {
  return {
    name,
    call: async () => (await rx.client.get(rx.group, '/', RX_CALL)).body.text(),
    close: rx.close,
  };
}

/** The full chain's Observable row: `client.get$`, the body read as text in `mergeMap`. */
function rxObservable(name: string, rx: RxClient): Contender {
  return {
    name,
    call$: () => rx.client.get$(rx.group, '/', RX_CALL).pipe(mergeMap((res) => res.body.text())),
    close: rx.close,
  };
}

/** Contender names, in the order of the tables. The first is the reference of every ratio. */
export const CONTENDERS = [
  'undici Pool.request',
  'undici dispatch',
  'undici fetch',
  'undici retry interceptor',
  'got',
  'axios',
  'node-fetch 2',
  'undici + cockatiel',
  'undici + opossum',
  'rxhttp Promise',
  'rxhttp Observable',
  'rxhttp operator chain',
  'rxhttp client.fetch',
  'rxhttp + metrics',
  'rxhttp + tracing',
  'rxhttp + OTel tracing',
  'rxhttp + OTel no-op tracer',
  'rxhttp + OTel tracing (server span)',
  'rxhttp Promise + bare OTel SDK span',
  'rxhttp Promise + timeline read',
  'undici Pool.request (Rx loop)',
  'rxhttp Promise (before)',
  'rxhttp Observable (before)',
  'rxhttp + OTel tracing (server span) (before)',
  'rxhttp + OTel no-op tracer (before)',
] as const;
export type ContenderName = (typeof CONTENDERS)[number];

export async function createContender(name: ContenderName, port: number): Promise<Contender> {
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/`;
  switch (name) {
    case 'undici Pool.request': {
      const pool = undiciPool(origin);
      return {
        name,
        call: async () => (await pool.request({ path: '/', method: 'GET' })).body.text(),
        close: () => pool.close(),
      };
    }
    case 'undici Pool.request (Rx loop)': {
      // The reference for 'rxhttp Observable': Pool.request driven by the same Rx loop, so the loop's
      // own cost (defer, repeat, mergeMap, catchError, finalize per call) is on both sides.
      const pool = undiciPool(origin);
      return {
        name,
        call$: () =>
          defer(() => pool.request({ path: '/', method: 'GET' })).pipe(mergeMap((res) => res.body.text())),
        close: () => pool.close(),
      };
    }
    case 'undici dispatch': {
      const pool = undiciPool(origin);
      return { name, call: () => dispatchGet(pool), close: () => pool.close() };
    }
    case 'undici fetch': {
      const agent = new Agent({ connections: CONNECTIONS });
      return {
        name,
        call: async () => (await fetch(url, { dispatcher: agent } as RequestInit)).text(),
        close: () => agent.close(),
      };
    }
    case 'undici retry interceptor': {
      const pool = undiciPool(origin);
      const retrying = pool.compose(interceptors.retry({ maxRetries: 2 }));
      return {
        name,
        call: async () => (await retrying.request({ origin, path: '/', method: 'GET' })).body.text(),
        close: () => pool.close(),
      };
    }
    case 'got': {
      const agent = nodeAgent();
      const client = got.extend({ agent: { http: agent } });
      return {
        name,
        call: () => client(url).text(),
        close: async () => agent.destroy(),
      };
    }
    case 'axios': {
      const agent = nodeAgent();
      const client = axios.create({ httpAgent: agent, responseType: 'text' });
      return { name, call: () => client.get(url), close: async () => agent.destroy() };
    }
    case 'node-fetch 2': {
      const agent = nodeAgent();
      return {
        name,
        call: async () => (await nodeFetch(url, { agent })).text(),
        close: async () => agent.destroy(),
      };
    }
    case 'undici + cockatiel': {
      const pool = undiciPool(origin);
      // Retry + breaker + timeout, as cockatiel's README composes them; the timeout hands the call a
      // signal, which it passes to undici as a user would.
      const policy = wrap(
        retry(handleAll, { maxAttempts: 2 }),
        circuitBreaker(handleAll, {
          halfOpenAfter: 10_000,
          breaker: new SamplingBreaker({ threshold: 0.5, duration: 20_000, minimumRps: 5 }),
        }),
        timeout(10_000, TimeoutStrategy.Aggressive),
      );
      return {
        name,
        call: () =>
          policy.execute(async ({ signal }) =>
            (await pool.request({ path: '/', method: 'GET', signal })).body.text(),
          ),
        close: () => pool.close(),
      };
    }
    case 'undici + opossum': {
      const pool = undiciPool(origin);
      const breaker = new CircuitBreaker(
        async () => (await pool.request({ path: '/', method: 'GET' })).body.text(),
        { timeout: 10_000, errorThresholdPercentage: 50, resetTimeout: 10_000 },
      );
      return {
        name,
        call: () => breaker.fire(),
        close: async () => {
          breaker.shutdown();
          await pool.close();
        },
      };
    }
    case 'rxhttp Promise':
      return rxPromise(name, await rxClient(port));
    case 'rxhttp Promise (before)':
      return rxPromise(name, await rxClient(port, {}, (await beforeBuild()).rx));
    case 'rxhttp Observable (before)':
      return rxObservable(name, await rxClient(port, {}, (await beforeBuild()).rx));
    case 'rxhttp Observable':
      return rxObservable(name, await rxClient(port));
    case 'rxhttp operator chain': {
      // client.request$ written out (README "Composing the chain yourself"): compose$ with pick →
      // attempt step → retryBackoff → deadline, the same options as 'rxhttp Observable'.
      const rx = await rxClient(port);
      const ops = await dist<typeof import('../lib/operators/index.js')>('operators/index');
      const req = { method: 'GET', group: rx.group, path: '/' };
      const chain = (call: import('../lib/index.js').ComposedCall) =>
        ops
          .pick(call.group, call.attempt$, { breakers: call.breakers, events: call })
          .pipe(ops.retryBackoff(call.retry), ops.deadline(call.timeout, { events: call }));
      return {
        name,
        call$: () => rx.client.compose$(req, RX_CALL, chain).pipe(mergeMap((res) => res.body.text())),
        close: rx.close,
      };
    }
    case 'rxhttp client.fetch': {
      const rx = await rxClient(port);
      return {
        name,
        call: async () => (await rx.client.fetch('http://bench/', RX_CALL)).text(),
        close: rx.close,
      };
    }
    case 'rxhttp Promise + timeline read': {
      // The same call as "rxhttp Promise", and the response's timeline folded and read (issue 21).
      const rx = await rxClient(port);
      let entries = 0;
      return {
        name,
        call: async () => {
          const res = await rx.client.get(rx.group, '/', RX_CALL);
          entries += res.timeline.entries.length;
          return res.body.text();
        },
        close: async () => {
          await rx.close();
          if (entries === 0) throw new Error('no timeline was read');
        },
      };
    }
    case 'rxhttp + metrics': {
      const rx = await rxClient(port, { metrics: { registry: new Registry() } });
      return {
        name,
        call: async () => (await rx.client.get(rx.group, '/', RX_CALL)).body.text(),
        close: rx.close,
      };
    }
    case 'rxhttp + tracing': {
      const rx = await rxClient(port, { tracer: silentTracer() });
      return {
        name,
        call: async () => (await rx.client.get(rx.group, '/', RX_CALL)).body.text(),
        close: rx.close,
      };
    }
    case 'rxhttp + OTel tracing':
    case 'rxhttp + OTel no-op tracer':
    case 'rxhttp + OTel no-op tracer (before)': {
      // The no-op tracer (the API's, as without an SDK) isolates rxhttp's own share from the SDK's.
      const sdk = name === 'rxhttp + OTel tracing' ? silentTracerProvider() : undefined;
      const tracerProvider: TracerProvider = sdk ?? new ProxyTracerProvider();
      const build = name.endsWith('(before)') ? (await beforeBuild()).rx : undefined;
      const rx = await rxClient(port, { openTelemetry: { tracerProvider } }, build);
      return {
        name,
        call: async () => (await rx.client.get(rx.group, '/', RX_CALL)).body.text(),
        close: async () => {
          await rx.close();
          await sdk?.shutdown();
        },
      };
    }
    case 'rxhttp + OTel tracing (server span)':
      return otelUnderServerSpan(name, port);
    case 'rxhttp Promise + bare OTel SDK span':
      return bareSdkSpan(name, port);
    case 'rxhttp + OTel tracing (server span) (before)':
      return otelUnderServerSpan(name, port, (await beforeBuild()).rx);
  }
}

/**
 * A server span active around every call, as in a service handling a request: the SDK (counting what
 * its exporter is handed), the server span (started once, outside the measured calls, as it belongs
 * to the service), the bench's context manager, and a client, traced or not. `close` checks that the
 * exporter was handed every span (the batch processor drops spans when its queue is full).
 */
async function underServerSpan(port: number, traced: boolean, build?: Rxhttp) {
  let exported = 0;
  const sdk = silentTracerProvider((n) => (exported += n));
  const server = sdk.getTracer('bench-server').startSpan('GET /orders', { kind: 1 /* SERVER */ });
  const under = trace.setSpan(ROOT_CONTEXT, server);
  // A second registration (two such rows in one run) is refused, and the first manager serves both.
  context.setGlobalContextManager(new SyncContextManager());
  const rx = await rxClient(port, traced ? { openTelemetry: { tracerProvider: sdk } } : {}, build);
  const get = () => rx.client.get(rx.group, '/', RX_CALL);
  return {
    sdk,
    under,
    rx,
    /** One call in the server span's context. */
    call: () => context.with(under, get),
    async close(name: string, calls: number): Promise<void> {
      await rx.close();
      server.end();
      context.disable();
      await sdk.shutdown();
      if (exported < calls + 1)
        throw new Error(`${name}: ${calls} calls, ${exported - 1} spans exported (dropped)`);
    },
  };
}

/** The usual case: one CLIENT span per call under the server span (not a local root plus a CLIENT span). */
async function otelUnderServerSpan(name: ContenderName, port: number, build?: Rxhttp): Promise<Contender> {
  const scene = await underServerSpan(port, true, build);
  let calls = 0;
  return {
    name,
    call: async () => {
      calls++;
      return (await scene.call()).body.text();
    },
    close: () => scene.close(name, calls),
  };
}

/**
 * The SDK's own share of the OTel row, with no rxhttp integration: the harness starts a CLIENT span
 * with the attributes rxhttp gives one (under the same server span, same SDK and processor) around
 * each call of a client without `openTelemetry`, made in the server span's context as the OTel row
 * makes its calls, and ends it with the status. No header is injected and nothing is suppressed: the
 * OTel row minus this one is what the integration costs.
 */
async function bareSdkSpan(name: ContenderName, port: number): Promise<Contender> {
  const scene = await underServerSpan(port, false);
  const tracer = scene.sdk.getTracer('rxhttp');
  const full = `http://127.0.0.1:${port}/`;
  const breakerKey = `127.0.0.1:${port}`;
  let calls = 0;
  return {
    name,
    call: async () => {
      calls++;
      const span = tracer.startSpan(
        'GET',
        {
          kind: 2 /* CLIENT */,
          startTime: performance.timeOrigin + performance.now(),
          attributes: {
            'http.request.method': 'GET',
            'server.address': '127.0.0.1',
            'server.port': port,
            'url.full': full,
            'url.template': '/',
            'rxhttp.group': 'bench',
            'rxhttp.breaker_key': breakerKey,
            'rxhttp.attempt': 1,
          },
        },
        scene.under,
      );
      const response = await scene.call();
      span.setAttribute('http.response.status_code', response.status);
      span.end(performance.timeOrigin + performance.now());
      return response.body.text();
    },
    close: () => scene.close(name, calls),
  };
}
