import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zipkin from 'zipkin';
import { HttpLogger } from 'zipkin-transport-http';

/** A span as posted in Zipkin's JSON v2. */
export interface JsonSpan {
  traceId: string;
  parentId?: string;
  id: string;
  name?: string;
  kind?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string; ipv4?: string; port?: number };
  remoteEndpoint?: { serviceName?: string; ipv4?: string; port?: number };
  annotations?: { timestamp: number; value: string }[];
  tags?: Record<string, string>;
}

/** A loopback stand-in for Zipkin's `POST /api/v2/spans`. */
export interface ZipkinCollector {
  /** The endpoint to give `HttpLogger`. */
  readonly endpoint: string;
  /** Every span received, in order. */
  readonly spans: JsonSpan[];
  /** Raw request bodies, to search for values that must never be recorded. */
  readonly bodies: string[];
  /** Paths posted to other than `/api/v2/spans` (a JSON v1 logger would post elsewhere). */
  readonly strayPaths: string[];
  /** Resolves once at least `count` spans arrived; rejects after `timeoutMs`. */
  waitForSpans(count: number, timeoutMs?: number): Promise<JsonSpan[]>;
  close(): Promise<void>;
}

/** Starts a collector on 127.0.0.1 and a random port. */
export async function startZipkinCollector(): Promise<ZipkinCollector> {
  const spans: JsonSpan[] = [];
  const bodies: string[] = [];
  const strayPaths: string[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      if (req.method !== 'POST' || req.url !== '/api/v2/spans') {
        strayPaths.push(`${req.method ?? ''} ${req.url ?? ''}`);
        res.writeHead(404).end();
        return;
      }
      try {
        spans.push(...(JSON.parse(body) as JsonSpan[]));
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(202).end();
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}/api/v2/spans`,
    spans,
    bodies,
    strayPaths,
    waitForSpans(count, timeoutMs = 5_000) {
      if (spans.length >= count) return Promise.resolve([...spans]);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (spans.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...spans]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`collector got ${spans.length} spans, expected ${count} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A zipkin-js tracer reporting through `HttpLogger` (JSON v2) to `endpoint`, with a manual flush. */
export interface SpecTracer {
  readonly tracer: zipkin.Tracer;
  /** Errors the transport logged (a failed POST), so specs can assert there were none. */
  readonly transportErrors: unknown[];
  /**
   * Posts the spans finished so far now instead of on the next interval. Unfinished spans stay in the
   * recorder (no `BatchRecorder.flush()`), so a span rxhttp forgot to finish is missing, not hidden.
   */
  flush(): void;
  /** Stops the recorder's and transport's intervals, which zipkin-js offers no way to clear. */
  close(): void;
}

/**
 * zipkin-js creates an unclearable `setInterval` in both `BatchRecorder` and `HttpLogger`; the
 * constructors run with `setInterval` wrapped so the handles can be cleared when the spec ends.
 */
export function createSpecTracer(
  endpoint: string,
  options: { sampled?: boolean; sample?: (id: zipkin.TraceId) => boolean } = {},
): SpecTracer {
  const timers: ReturnType<typeof setInterval>[] = [];
  const original = globalThis.setInterval;
  const transportErrors: unknown[] = [];
  let logger: HttpLogger;
  let recorder: zipkin.BatchRecorder;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const t = original(...args);
    timers.push(t);
    return t;
  }) as typeof setInterval;
  try {
    logger = new HttpLogger({
      endpoint,
      jsonEncoder: zipkin.jsonEncoder.JSON_V2,
      httpInterval: 60_000,
      log: { error: (...args: unknown[]) => transportErrors.push(args) },
    });
    recorder = new zipkin.BatchRecorder({ logger });
  } finally {
    globalThis.setInterval = original;
  }
  const tracer = new zipkin.Tracer({
    ctxImpl: new zipkin.ExplicitContext(),
    recorder,
    sampler: new zipkin.sampler.Sampler(
      options.sample ??
        (options.sampled === false ? zipkin.sampler.neverSample : zipkin.sampler.alwaysSample),
    ),
    localServiceName: 'spec-client',
  });
  return {
    tracer,
    transportErrors,
    flush() {
      // processQueue is HttpLogger's (untyped) flush; it posts with the global fetch.
      (logger as unknown as { processQueue(fetchImpl: typeof fetch): void }).processQueue(globalThis.fetch);
    },
    close() {
      for (const t of timers) clearInterval(t);
    },
  };
}
