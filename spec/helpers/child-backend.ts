import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A backend in a child process, so leak checks in the spec process see only the client's
 * handles (an in-process server's sockets would hide the client's).
 * `mode`: 'ok' answers 200; 'hang' never answers; 'fail' answers 503.
 */
export interface ChildBackend {
  readonly port: number;
  readonly hostPort: string;
  stop(): Promise<void>;
}

const SCRIPT = `
const http = require('node:http');
const mode = process.argv[1];
const server = http.createServer((req, res) => {
  req.resume();
  if (mode === 'hang') return;
  if (mode === 'fail') { res.statusCode = 503; return res.end('busy'); }
  res.end('ok');
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

/**
 * Runs `script` with `node -e` (and IPC), waits for the port it prints on its first stdout line,
 * and gives a `stop()` that ends it. Shared by every child-process backend of the specs.
 */
export async function spawnPortChild(
  script: string,
  args: readonly string[],
): Promise<{ child: ChildProcess; port: number; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(Number(buf.trim()));
    });
    child.once('exit', () => reject(new Error('child backend exited')));
  });
  child.stdout!.removeAllListeners('data');
  child.stdout!.destroy();
  return {
    child,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function startChildBackend(mode: 'ok' | 'hang' | 'fail' = 'ok'): Promise<ChildBackend> {
  const { port, stop } = await spawnPortChild(SCRIPT, [mode]);
  return { port, hostPort: `127.0.0.1:${port}`, stop };
}
