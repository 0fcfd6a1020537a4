import { spawn } from 'node:child_process';

/** What an echo backend saw of one request. */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly attempt: string | undefined;
  readonly contentType: string | undefined;
  readonly body: string;
  readonly status: number;
}

/**
 * A loopback echo backend in a child process, so handle counts in the spec process see only the
 * client's sockets. `failFirst` answers the first request with 503, the rest with 200.
 */
export interface EchoBackend {
  readonly port: number;
  readonly hostPort: string;
  /** Every request so far, in arrival order. */
  seen(): Promise<readonly Seen[]>;
  stop(): Promise<void>;
}

const SCRIPT = `
const http = require('node:http');
const failFirst = process.argv[1] === 'fail-first';
const seen = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const status = failFirst && seen.length === 0 ? 503 : 200;
    const entry = { method: req.method, url: req.url, attempt: req.headers['x-rxhttp-attempt'],
      contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString(), status };
    seen.push(entry);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(entry));
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', () => process.send({ seen }));
process.on('disconnect', () => process.exit(0));
`;

export async function startEchoBackend(mode: 'ok' | 'fail-first' = 'ok'): Promise<EchoBackend> {
  const child = spawn(process.execPath, ['-e', SCRIPT, mode], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onExit = () => reject(new Error('echo backend exited'));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolve(m as T);
      });
    });
  const { port } = await next<{ port: number }>();
  return {
    port,
    hostPort: `127.0.0.1:${port}`,
    async seen() {
      const reply = next<{ seen: Seen[] }>();
      child.send('seen');
      return (await reply).seen;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
