import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A real node:http server on a loopback address, with request counting and a swappable handler. */
export interface Backend {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** `host:port` */
  readonly hostPort: string;
  /** Requests whose headers arrived. */
  hits: number;
  /** Requests the server saw aborted by the client before it answered. */
  aborted: number;
  /** Last request's headers. */
  lastHeaders: IncomingMessage['headers'] | undefined;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

/** Starts a backend on `host` (default 127.0.0.1), port 0 unless given. */
export async function startBackend(
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok'),
  host = '127.0.0.1',
  port = 0,
): Promise<Backend> {
  const sockets = new Set<Socket>();
  const backend = {
    hits: 0,
    aborted: 0,
    lastHeaders: undefined,
    handler,
  } as unknown as Backend & { server: Server };
  const server = createServer((req, res) => {
    backend.hits++;
    backend.lastHeaders = req.headers;
    res.on('close', () => {
      if (!res.writableFinished) backend.aborted++;
    });
    backend.handler(req, res);
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  Object.assign(backend, {
    server,
    host,
    port: addr.port,
    hostPort: `${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  return backend;
}

/** Reads a request body to a string. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Waits until `predicate` holds, polling, up to `timeoutMs` (generous bounds for loopback I/O). */
export async function waitFor(predicate: () => boolean, timeoutMs = 5_000, stepMs = 10): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A static:// target for backends. */
export function staticTarget(...backends: Backend[]): string {
  return 'static://' + backends.map((b) => b.hostPort).join(',');
}
