import { spawnPortChild } from './child-backend.js';

/** What the flaky child backend counted. `maxOpen` is the most connections it held at once. */
export interface FlakyStats {
  readonly hits: number;
  readonly ok: number;
  readonly failed: number;
  readonly reset: number;
  readonly open: number;
  readonly maxOpen: number;
}

/**
 * A backend in a child process (so the spec process's active handles are the client's alone) that
 * fails about half its requests: `failRatio` of them answer 503, `resetRatio` more get their
 * connection destroyed before any answer; the rest answer 200. Stats come over IPC.
 */
export interface FlakyChild {
  readonly port: number;
  readonly hostPort: string;
  stats(): Promise<FlakyStats>;
  stop(): Promise<void>;
}

const SCRIPT = `
const http = require('node:http');
const failRatio = Number(process.argv[1]);
const resetRatio = Number(process.argv[2]);
const s = { hits: 0, ok: 0, failed: 0, reset: 0, open: 0, maxOpen: 0 };
const server = http.createServer((req, res) => {
  s.hits++;
  req.resume();
  const r = Math.random();
  if (r < failRatio) { s.failed++; res.statusCode = 503; return res.end('busy'); }
  if (r < failRatio + resetRatio) { s.reset++; return req.socket.destroy(); }
  s.ok++;
  res.end('ok');
});
server.on('connection', (sock) => {
  s.open++;
  if (s.open > s.maxOpen) s.maxOpen = s.open;
  sock.on('close', () => s.open--);
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('message', (m) => { if (m === 'stats') process.send(s); });
process.on('disconnect', () => process.exit(0));
`;

export async function startFlakyChild(failRatio = 0.4, resetRatio = 0.1): Promise<FlakyChild> {
  const { child, port, stop } = await spawnPortChild(SCRIPT, [String(failRatio), String(resetRatio)]);
  return {
    port,
    hostPort: `127.0.0.1:${port}`,
    stats: () =>
      new Promise<FlakyStats>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no stats from the child backend')), 5_000);
        child.once('message', (m) => {
          clearTimeout(timer);
          resolve(m as FlakyStats);
        });
        child.send('stats');
      }),
    stop,
  };
}
