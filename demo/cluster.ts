/**
 * The demo's embedded cluster: five loopback HTTP backends with scripted behaviour. Everything is
 * on 127.0.0.1, on ports the OS picks; randomness is seeded so both runs of the demo meet the same
 * failures.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { seededRandom } from '../lib/internal/random.js';

/** How a backend answers. */
export type Behaviour =
  | { readonly kind: 'healthy'; readonly ms: number }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'flaky'; readonly ms: number; readonly failRatio: number }
  /** Dies half way (connections reset) and comes back: `dead` is switched by the cluster. */
  | { readonly kind: 'mortal'; readonly ms: number };

/** One backend of the cluster. */
export interface DemoBackend {
  readonly name: string;
  readonly hostPort: string;
  readonly behaviour: Behaviour;
  /** True while a `mortal` backend is down: every request has its connection reset. */
  dead: boolean;
  close(): Promise<void>;
}

/** The five backends, in the order of the table. */
export const CLUSTER: readonly { readonly name: string; readonly behaviour: Behaviour }[] = [
  { name: 'healthy-1', behaviour: { kind: 'healthy', ms: 3 } },
  { name: 'healthy-2', behaviour: { kind: 'healthy', ms: 3 } },
  { name: 'slow', behaviour: { kind: 'slow', ms: 80 } },
  { name: 'flaky', behaviour: { kind: 'flaky', ms: 3, failRatio: 0.3 } },
  { name: 'mortal', behaviour: { kind: 'mortal', ms: 3 } },
];

/** Fraction of a run at which the mortal backend dies, and at which it comes back. */
export const DIES_AT = 0.35;
export const RETURNS_AT = 0.65;

/** Service time with a little seeded jitter (±30 %), so latencies are not all identical. */
function serviceTime(ms: number, random: () => number): number {
  return ms * (0.7 + 0.6 * random());
}

/** Starts one backend on 127.0.0.1 at a free port. */
export async function startDemoBackend(name: string, behaviour: Behaviour, seed = 1): Promise<DemoBackend> {
  const random = seededRandom(seed);
  const sockets = new Set<Socket>();
  const backend = { name, behaviour, dead: false } as DemoBackend & {
    server: Server;
    reseed(s: number): void;
  };
  let rnd = random;
  const server = createServer((req, res) => {
    req.resume();
    if (backend.dead) {
      // A crashed process: the connection goes away under the request.
      req.socket.destroy();
      return;
    }
    const b = backend.behaviour;
    if (b.kind === 'flaky' && rnd() < b.failRatio) {
      // Fails fast: a quick 503 looks like low latency to a latency-only balancer.
      res.statusCode = 503;
      res.end('busy');
      return;
    }
    setTimeout(() => res.end(`hello from ${name}`), serviceTime(b.ms, rnd));
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return Object.assign(backend, {
    server,
    hostPort: `127.0.0.1:${port}`,
    reseed: (s: number) => (rnd = seededRandom(s)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

/** The running cluster. */
export interface DemoCluster {
  readonly backends: readonly DemoBackend[];
  /** `static://` target listing every backend. */
  readonly target: string;
  /** Resets the script (mortal alive, seeds rewound) so every run meets the same cluster. */
  reset(): void;
  /** Moves the script to `fraction` (0..1) of a run: the mortal backend dies and comes back. */
  at(fraction: number): void;
  close(): Promise<void>;
}

/** Starts the five backends of {@link CLUSTER}. */
export async function startDemoCluster(): Promise<DemoCluster> {
  const backends = await Promise.all(CLUSTER.map((b, i) => startDemoBackend(b.name, b.behaviour, 1_000 + i)));
  return {
    backends,
    target: 'static://' + backends.map((b) => b.hostPort).join(','),
    reset() {
      backends.forEach((b, i) => {
        b.dead = false;
        (b as DemoBackend & { reseed(s: number): void }).reseed(1_000 + i);
      });
    },
    at(fraction) {
      for (const b of backends)
        if (b.behaviour.kind === 'mortal') b.dead = fraction >= DIES_AT && fraction < RETURNS_AT;
    },
    close: async () => {
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}
