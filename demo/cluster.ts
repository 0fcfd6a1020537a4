import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One embedded backend of the demo cluster. */
export interface DemoBackend {
  readonly name: string;
  readonly hostPort: string;
  /** Replace the behaviour while running (e.g. kill and revive). */
  mode: 'healthy' | 'slow' | 'flaky' | 'failing' | 'down';
  close(): Promise<void>;
}

/** Starts a loopback backend with a behaviour; 'down' answers by destroying the socket. */
export async function startDemoBackend(
  name: string,
  mode: DemoBackend['mode'],
  slowMs = 40,
): Promise<DemoBackend> {
  const backend = { name, mode } as DemoBackend & { server: Server };
  const server = createServer((req, res) => {
    req.resume();
    switch (backend.mode) {
      case 'healthy':
        setTimeout(() => res.end(`hello from ${name}`), 2);
        return;
      case 'slow':
        setTimeout(() => res.end(`slow hello from ${name}`), slowMs);
        return;
      case 'flaky':
        if (Math.random() < 0.3) {
          res.statusCode = 503;
          res.end('busy');
        } else setTimeout(() => res.end(`hello from ${name}`), 2);
        return;
      case 'failing':
        res.statusCode = 503;
        res.end('busy');
        return;
      case 'down':
        req.socket.destroy();
        return;
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(backend, {
    server,
    hostPort: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
