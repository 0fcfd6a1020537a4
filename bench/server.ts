/**
 * Loopback HTTP backends for the benchmarks, in a child process of their own so that the client's
 * CPU (`process.cpuUsage()` in the bench process) and the server's are measured apart.
 *
 *   node --import tsx bench/server.ts '{"backends":[{"delayMs":0}]}'   (normally started by util.ts)
 *
 * Each backend listens on 127.0.0.1 on a port of its own and answers `GET /` with a small JSON body
 * after `delayMs`. With `slots > 0` a backend serves at most that many requests at once and queues
 * the rest (a host with finite capacity, for the open-loop balance run); `slots: 0` is a pure delay.
 * `GET /hold` is answered only when the parent sends `release` (in-flight memory). Commands arrive
 * over IPC; the child exits when the parent goes away, and after 30 minutes whatever happens.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface BackendSpec {
  readonly delayMs: number;
  readonly slots?: number;
  /** Share of requests answered after `slowMs` instead of `delayMs`, drawn per request (slots 0 only). */
  readonly slowShare?: number;
  readonly slowMs?: number;
}

export interface ServerCommand {
  readonly id: number;
  readonly cmd: 'cpu' | 'hits' | 'held' | 'release';
}

const BODY = Buffer.from('{"ok":true,"service":"bench","items":[1,2,3]}');
/** `GET /gzip64`: 64 KiB of JSON, gzipped once at start (bench/decode.ts). */
const GZIP64 = gzipSync(
  Buffer.from(
    JSON.stringify(Array.from({ length: 2_000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] }))),
  ).subarray(0, 65_536),
);
const GZIP_HEADERS = {
  'content-type': 'application/json',
  'content-encoding': 'gzip',
  'content-length': String(GZIP64.length),
};
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

function reply(res: http.ServerResponse): void {
  res.writeHead(200, HEADERS);
  res.end(BODY);
}

interface Backend {
  readonly server: http.Server;
  hits: number;
}

const held: http.ServerResponse[] = [];

function startBackend(spec: BackendSpec): Promise<Backend> {
  const slots = spec.slots ?? 0;
  const queue: http.ServerResponse[] = [];
  let busy = 0;
  const serve = (res: http.ServerResponse): void => {
    busy++;
    setTimeout(() => {
      busy--;
      reply(res);
      // A request whose client gave up (its socket closed) leaves the queue without costing a slot.
      let next = queue.shift();
      while (next && (next.socket === null || next.socket.destroyed)) next = queue.shift();
      if (next) serve(next);
    }, spec.delayMs);
  };
  const backend: Backend = {
    hits: 0,
    server: http.createServer((req, res) => {
      req.resume();
      backend.hits++;
      if (req.url === '/gzip64') {
        res.writeHead(200, GZIP_HEADERS);
        res.end(GZIP64);
        return;
      }
      if (req.url === '/hold') {
        held.push(res);
        return;
      }
      if (spec.delayMs <= 0) return reply(res);
      if (slots === 0) {
        const slow = spec.slowShare !== undefined && Math.random() < spec.slowShare;
        setTimeout(reply, slow ? (spec.slowMs ?? spec.delayMs) : spec.delayMs, res);
        return;
      }
      if (busy < slots) serve(res);
      else queue.push(res);
    }),
  };
  // Long keep-alive (advertised in the Keep-Alive header, which undici honours): a contender idle
  // while the others run its rounds keeps its connections, so no round pays for reconnecting.
  backend.server.keepAliveTimeout = 120_000;
  backend.server.headersTimeout = 130_000;
  backend.server.maxRequestsPerSocket = 0;
  return new Promise((resolve) => backend.server.listen(0, '127.0.0.1', () => resolve(backend)));
}

async function main(): Promise<void> {
  const { backends: specs } = JSON.parse(process.argv[2] ?? '{"backends":[{"delayMs":0}]}') as {
    backends: BackendSpec[];
  };
  const backends = await Promise.all(specs.map(startBackend));
  process.on('message', (m: ServerCommand) => {
    switch (m.cmd) {
      case 'cpu':
        return process.send!({ id: m.id, value: process.cpuUsage() });
      case 'hits': {
        const value = backends.map((b) => b.hits);
        for (const b of backends) b.hits = 0;
        return process.send!({ id: m.id, value });
      }
      case 'held':
        return process.send!({ id: m.id, value: held.length });
      case 'release':
        for (const res of held.splice(0)) reply(res);
        return process.send!({ id: m.id, value: 0 });
    }
  });
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(0), 30 * 60_000).unref();
  process.send!({
    id: 0,
    value: backends.map((b) => (b.server.address() as AddressInfo).port),
  });
}

void main();
