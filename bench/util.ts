/**
 * Shared pieces of the benchmarks: loading the built library, the loopback server child, closed-loop
 * load with CPU and latency accounting, medians and markdown tables.
 */
import { execFileSync, execSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendSpec, ServerCommand } from './server.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const QUICK = process.argv.includes('--quick');

/** Value of `--name value` on the command line. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds `dist/` when it is missing or older than `lib/`, so the benches measure what users run. */
export function ensureDist(): void {
  const index = `${ROOT}dist/index.js`;
  // run.ts builds once and sets this, so that every benchmark of a run measures the same build.
  if (process.env.BENCH_NO_BUILD && existsSync(index)) return;
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(`${ROOT}lib`)) return;
  console.error('bench: dist/ is missing or stale, running npm run build');
  try {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  } catch (e) {
    // lib/ being edited mid-run: measure the last good build rather than nothing.
    if (!existsSync(index)) throw e;
    console.error('bench: build failed, measuring the existing dist/');
  }
}

/**
 * Imports a module of the built library (`dist/<rel>.js`), typed by its source in `lib/`:
 * `await dist<typeof import('../lib/index.js')>('index')`.
 */
export async function dist<T>(rel: string): Promise<T> {
  ensureDist();
  return (await import(new URL(`../dist/${rel}.js`, import.meta.url).href)) as T;
}

// ---------------------------------------------------------------- server child

export interface ServerHandle {
  readonly ports: readonly number[];
  /** The child's `process.cpuUsage()`. */
  cpu(): Promise<NodeJS.CpuUsage>;
  /** Requests per backend since the last call (and resets the counts). */
  hits(): Promise<number[]>;
  /** Requests parked on `/hold`. */
  held(): Promise<number>;
  release(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the loopback backends of `bench/server.ts` in a child process; with `cpu`, the child and all
 * its threads are bound to that core (`taskset -c`, see `pinning`).
 */
export async function startServer(
  backends: readonly BackendSpec[] = [{ delayMs: 0 }],
  cpu?: number,
): Promise<ServerHandle> {
  const argv = [
    process.execPath,
    '--import',
    'tsx',
    fileURLToPath(new URL('./server.ts', import.meta.url)),
    JSON.stringify({ backends }),
  ];
  if (cpu !== undefined) argv.unshift('taskset', '-c', String(cpu));
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: ROOT,
  });
  let nextId = 1;
  const pending = new Map<number, (v: unknown) => void>();
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    child.on('message', (m: { id: number; value: unknown }) => {
      if (m.id === 0) resolve(m.value as number[]);
      else pending.get(m.id)?.(m.value);
      pending.delete(m.id);
    });
  });
  const ask = <T>(cmd: ServerCommand['cmd']): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (v: unknown) => void);
      child.send({ id, cmd });
    });
  return {
    ports,
    cpu: () => ask('cpu'),
    hits: () => ask('hits'),
    held: () => ask('held'),
    release: () => ask('release'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

// ---------------------------------------------------------------- pinning

/** Where the pinned mode puts the client and the server, or why it cannot. */
export type Pinning =
  | { readonly ok: true; readonly client: number; readonly server: number }
  | { readonly ok: false; readonly why: string };

/**
 * The pinned mode's cores: the client on the first core this process may run on, the server on the
 * second, so neither's CPU figure carries the other's contention. Needs two cores and `taskset`
 * (util-linux); otherwise says why, and the caller runs shared.
 */
export function pinning(): Pinning {
  let allowed: number[];
  try {
    // "pid 123's current affinity list: 0,1" or "0-3"
    const out = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
    allowed = (out.split(':').pop() ?? '')
      .trim()
      .split(',')
      .flatMap((part) => {
        const [a, b] = part.split('-').map(Number);
        return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
      })
      .filter((n) => Number.isInteger(n));
  } catch {
    return {
      ok: false,
      why: 'taskset not found: install util-linux (`apt-get install util-linux`, `apk add util-linux`)',
    };
  }
  if (allowed.length < 2) return { ok: false, why: `only ${allowed.length} core available to this process` };
  return { ok: true, client: allowed[0]!, server: allowed[1]! };
}

/** Binds this process and every thread it has (V8's helpers, libuv's pool) to one core. */
export function pinSelf(cpu: number): void {
  execFileSync('taskset', ['-a', '-c', '-p', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

// ---------------------------------------------------------------- machine stalls

/** Timer stalls an idle process saw: the machine did not run it (the VM, or every core busy). */
export interface Stalls {
  readonly seconds: number;
  /** Stalls of 5 ms or more. */
  readonly count: number;
  /** The longest, ms. */
  readonly maxMs: number;
}

export interface StallMonitor {
  /** Stalls since the last call (or since start). */
  take(): Promise<Stalls>;
  stop(): void;
}

/**
 * An idle child process that ticks every millisecond and counts how late its ticks are: it does no
 * work, so a late tick means the machine did not run it (the VM paused, or every core was busy) —
 * noise that a latency-driven balancer sees in every sample taken meanwhile. Stops with the parent, and after 30 minutes whatever happens.
 */
export function startStallMonitor(): StallMonitor {
  const code = `
    let last = performance.now(), count = 0, max = 0, since = last;
    setInterval(() => { const n = performance.now(), late = n - last - 1; if (late >= 5) count++; if (late > max) max = late; last = n; }, 1);
    process.on('message', () => { const n = performance.now(); process.send({ seconds: (n - since) / 1000, count, maxMs: max }); count = 0; max = 0; since = n; });
    process.on('disconnect', () => process.exit(0));
    setTimeout(() => process.exit(0), 30 * 60000).unref();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    take: () =>
      new Promise<Stalls>((resolve) => {
        child.once('message', (m) => resolve(m as Stalls));
        child.send('take');
      }),
    stop: () => {
      if (child.connected) child.disconnect();
    },
  };
}

// ---------------------------------------------------------------- load

export interface RoundResult {
  readonly completed: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly userUs: number;
  readonly systemUs: number;
  /** Per-call latency, ms, in completion order. */
  readonly latencies: Float64Array;
}

export interface LoadOptions {
  readonly concurrency: number;
  /** Calls in all; the round also stops issuing new calls after `maxMs`. */
  readonly count: number;
  readonly maxMs: number;
}

/**
 * Closed loop: `concurrency` workers each await one call after another until `count` calls were
 * issued or `maxMs` passed. Client CPU is `process.cpuUsage()` across the round.
 */
export async function closedLoop(call: () => Promise<unknown>, o: LoadOptions): Promise<RoundResult> {
  const latencies = new Float64Array(o.count);
  let issued = 0;
  let completed = 0;
  let errors = 0;
  let firstError: unknown;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stopAt = t0 + o.maxMs;
  const worker = async (): Promise<void> => {
    while (issued < o.count && performance.now() < stopAt) {
      issued++;
      const s = performance.now();
      try {
        await call();
      } catch (e) {
        errors++;
        firstError ??= e;
      }
      latencies[completed++] = performance.now() - s;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (firstError !== undefined && errors > completed / 100) throw firstError;
  return {
    completed,
    errors,
    elapsedMs,
    userUs: cpu.user,
    systemUs: cpu.system,
    latencies: latencies.subarray(0, completed),
  };
}

// ---------------------------------------------------------------- statistics

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, `p` in [0, 100]. */
export function percentile(xs: Float64Array | readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

export function fmtInt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return Math.round(x).toLocaleString('en-US');
}

/** A markdown table; numbers are expected pre-formatted. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

/** `met` / `NOT met` with the measured value, for the targets lists. */
export function verdict(ok: boolean, what: string, measured: string): string {
  return `- ${ok ? '**met**' : '**NOT met**'}: ${what} — measured ${measured}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` with a hard wall-clock cap, so no benchmark can hang the suite. */
export function watchdog(seconds: number, name: string): void {
  setTimeout(() => {
    console.error(`bench ${name}: stopped after ${seconds} s (watchdog)`);
    process.exit(2);
  }, seconds * 1_000).unref();
}

// ---------------------------------------------------------------- builds of other commits

/** The commit's build, made once into `.tmp/` (its sources come from git, its node_modules are ours). */
export function buildAt(ref: string): { sha: string; dir: string } {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = `${ROOT}.tmp/bench-build-${sha}`;
  if (!existsSync(`${dir}/dist/index.js`)) {
    mkdirSync(dir, { recursive: true });
    execSync(`git archive ${sha} lib tsconfig.json tsconfig.build.json package.json | tar -x -C ${dir}`, {
      cwd: ROOT,
    });
    if (!existsSync(`${dir}/node_modules`)) symlinkSync(`${ROOT}node_modules`, `${dir}/node_modules`);
    execFileSync(`${ROOT}node_modules/.bin/tsc`, ['-p', 'tsconfig.build.json'], {
      cwd: dir,
      stdio: 'inherit',
    });
  }
  return { sha, dir };
}
