import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A fault-injecting HTTP/1.1 server in a CHILD process, speaking raw TCP so it can break the
 * protocol in every way a real peer does. Running it out of process keeps the spec process's
 * `getActiveResourcesInfo()` and timer counts about the client alone.
 *
 * The fault is chosen by the request path (the query is ignored unless a fault reads it):
 *
 * | path | behaviour |
 * |---|---|
 * | `/ok` (or anything unknown) | `200 ok`, keep-alive |
 * | `/reset-before-headers` | reads the request, then RST |
 * | `/reset-mid-body` | headers (`content-length: 65536`) and 1 000 bytes, then RST |
 * | `/hang` | reads the request, never answers |
 * | `/trickle?every=MS&bytes=N` | headers (`content-length: N`), then one byte every MS ms |
 * | `/bad-status` | a malformed status line |
 * | `/bad-header-value` | a NUL byte inside a header value |
 * | `/bad-header-name` | a space inside a header name |
 * | `/cl-short` | `content-length: 2` and a 20-byte body (the rest is garbage on the connection) |
 * | `/cl-long` | `content-length: 100`, a 5-byte body, then FIN |
 * | `/bad-chunked` | `transfer-encoding: chunked` with a non-hex chunk size |
 * | `/big-headers` | 64 KiB of response headers |
 * | `/one-per-conn` | `200 ok` keep-alive; the NEXT request on that connection is RST unanswered |
 * | `/close-after` | `200 ok` keep-alive, then FIN 30 ms later (a graceful close between requests) |
 *
 * With `?key=K&times=N` the fault applies to the first N requests carrying key K only (N = 1 by
 * default), and later ones get `/ok`: a fault that a retry can hide.
 *
 * Beside the listeners, `neverReadPort` accepts connections and never reads a byte.
 */
export interface FaultServer {
  /** One port per listener (all on 127.0.0.1). */
  readonly ports: readonly number[];
  /** `127.0.0.1:port` of each listener. */
  readonly hostPorts: readonly string[];
  /** First listener's `host:port`. */
  readonly hostPort: string;
  /** A port that accepts and never reads. */
  readonly neverReadPort: number;
  /** Server-side connection counts per listener (and for the never-read port, last). */
  stats(): Promise<FaultStats>;
  /** Resets the `accepted` and `requests` counters. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface ListenerStats {
  readonly port: number;
  /** Connections accepted since start (or the last reset). */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Requests whose head arrived. */
  readonly requests: number;
  /** `/trickle` responses still being written. */
  readonly trickling: number;
}

export interface FaultStats {
  readonly listeners: readonly ListenerStats[];
  readonly neverRead: ListenerStats;
}

const SCRIPT = String.raw`
const net = require('node:net');
const count = Number(process.argv[1] || '1');
const ok = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nkeep-alive: timeout=5\r\n\r\nok';
const listeners = [];
const hits = new Map();
function track(stats, socket) {
  stats.accepted++; stats.open++;
  socket.on('error', () => {});
  socket.once('close', () => { stats.open--; });
}
function reset(socket) {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy(); else socket.destroy();
}
function handle(stats, socket, path, query) {
  switch (path) {
    case '/reset-before-headers': return reset(socket);
    case '/reset-mid-body':
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 65536\r\n\r\n' + 'x'.repeat(1000));
      return setTimeout(() => reset(socket), 20);
    case '/hang': return;
    case '/trickle': {
      const every = Number(query.get('every') || '100');
      const total = Number(query.get('bytes') || '1000');
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: ' + total + '\r\n\r\n');
      let sent = 0;
      stats.trickling++;
      const stop = () => { if (t) { clearInterval(t); t = null; stats.trickling--; } };
      let t = setInterval(() => {
        if (socket.destroyed || sent >= total) return stop();
        socket.write('x'); sent++;
      }, every);
      socket.once('close', stop);
      return;
    }
    case '/bad-status': return socket.end('HTTP/1.1 2x0 OK\r\ncontent-length: 2\r\n\r\nok');
    case '/bad-header-value':
      return socket.write('HTTP/1.1 200 OK\r\nx-bad: a\x00b\r\ncontent-length: 2\r\n\r\nok');
    case '/bad-header-name':
      return socket.write('HTTP/1.1 200 OK\r\nx bad: ab\r\ncontent-length: 2\r\n\r\nok');
    case '/cl-short':
      return socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokGARBAGE-GARBAGE!');
    case '/cl-long': return socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort');
    case '/bad-chunked':
      return socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n');
    case '/big-headers':
      return socket.write('HTTP/1.1 200 OK\r\nx-big: ' + 'a'.repeat(65536) + '\r\ncontent-length: 2\r\n\r\nok');
    case '/one-per-conn': socket.__resetNext = true; return socket.write(ok);
    case '/close-after': socket.write(ok); return setTimeout(() => socket.end(), 30);
    default: return socket.write(ok);
  }
}
function serve(stats, socket) {
  track(stats, socket);
  let buf = Buffer.alloc(0);
  let need = -1; // body bytes still to skip
  let pending = null;
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (need < 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        stats.requests++;
        if (socket.__resetNext) return reset(socket);
        const [line, ...fields] = head.split('\r\n');
        const target = (line.split(' ')[1]) || '/';
        const url = new URL(target, 'http://x');
        let len = 0;
        for (const f of fields) {
          const i = f.indexOf(':');
          if (f.slice(0, i).trim().toLowerCase() === 'content-length') len = Number(f.slice(i + 1).trim());
        }
        need = len;
        pending = url;
      }
      const take = Math.min(need, buf.length);
      buf = buf.subarray(take);
      need -= take;
      if (need > 0) return;
      need = -1;
      const url = pending; pending = null;
      let path = url.pathname;
      const key = url.searchParams.get('key');
      if (key !== null) {
        const n = (hits.get(key) || 0) + 1;
        hits.set(key, n);
        if (n > Number(url.searchParams.get('times') || '1')) path = '/ok';
      }
      handle(stats, socket, path, url.searchParams);
      if (socket.destroyed) return;
    }
  });
}
function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}
(async () => {
  for (let i = 0; i < count; i++) {
    const stats = { port: 0, accepted: 0, open: 0, requests: 0, trickling: 0 };
    const server = net.createServer((s) => serve(stats, s));
    stats.port = await listen(server);
    listeners.push(stats);
  }
  const neverRead = { port: 0, accepted: 0, open: 0, requests: 0, trickling: 0 };
  const nr = net.createServer({ pauseOnConnect: true }, (s) => track(neverRead, s));
  neverRead.port = await listen(nr);
  process.on('message', (m) => {
    if (m.type === 'reset') for (const s of [...listeners, neverRead]) { s.accepted = 0; s.requests = 0; }
    process.send({ id: m.id, listeners, neverRead });
  });
  process.send({ id: 0, listeners, neverRead });
})();
process.on('disconnect', () => process.exit(0));
`;

/** Starts a fault server with `listeners` independent listeners (default 1). */
export async function startFaultServer(listeners = 1): Promise<FaultServer> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT, String(listeners)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, (s: FaultStats) => void>();
  child.on('message', (m: FaultStats & { id: number }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    w?.(m);
  });
  const ask = (type: string, id = nextId++): Promise<FaultStats> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`fault server did not answer ${type}`)), 10_000);
      waiting.set(id, (s) => {
        clearTimeout(t);
        resolve(s);
      });
      if (id !== 0) child.send({ type, id });
    });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`fault server exited (${code})`))),
  );
  exited.catch(() => undefined);
  const first = await Promise.race([ask('hello', 0), exited]);
  const ports = first.listeners.map((l) => l.port);
  return {
    ports,
    hostPorts: ports.map((p) => `127.0.0.1:${p}`),
    hostPort: `127.0.0.1:${ports[0]}`,
    neverReadPort: first.neverRead.port,
    stats: () => ask('stats'),
    reset: async () => {
      await ask('reset');
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
