/**
 * Where the CPU goes in one contender: runs it alone at c = 64 under V8's sampling CPU profiler (the
 * one behind `node --cpu-prof`, started through `node:inspector` after the warm-up so that module
 * loading and JIT warm-up are not in the picture) and prints self time by function, and by where the
 * code lives (rxhttp's dist/, rxjs, undici, Node).
 *
 *   npx tsx bench/profile.ts [--contender "rxhttp Promise"] [--c 64] [--seconds 6] [--top 30] [--pinned]
 *   npx tsx bench/profile.ts --from file.cpuprofile [--calls N]   (summarise a `node --cpu-prof` file)
 *
 * With `--pinned`, the server child runs on one core and this client process on another (`taskset`),
 * as in `throughput.ts --pinned`. Besides the tables by place and by function, a table by stage of the
 * call chain (bench/profile-stages.ts holds the attribution rules). The raw profile is written to
 * .tmp/profile/ (open it in Chrome DevTools → Performance, or summarise it again with `--from`).
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { CONTENDERS, createContender, type ContenderName } from './contenders.js';
import { repoPath, STAGES, stageTimes, type CpuProfile } from './profile-stages.js';
import { arg, closedLoop, ensureDist, fmt, pinSelf, pinning, ROOT, startServer, table } from './util.js';

const NAME = (arg('contender') ?? 'rxhttp Promise') as ContenderName;
const SECONDS = Number(arg('seconds') ?? 6);
const C = Number(arg('c') ?? 64);
const TOP = Number(arg('top') ?? 30);
const DIR = `${ROOT}.tmp/profile`;
const FROM = arg('from');
const PINNED = process.argv.includes('--pinned');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string, fn: string): string {
  if (repoPath(url, `file://${ROOT}`).startsWith('dist/')) return 'rxhttp (dist/)';
  if (url.includes('node_modules/rxjs/')) return 'rxjs';
  if (url.includes('node_modules/undici/')) return 'undici';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:')) return 'node internals';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)' || fn === '(program)') return fn;
  if (url === '') return 'native / V8';
  return 'other';
}

/** Self time per stage of the call chain (bench/profile-stages.ts). */
function stages(p: Profile, calls: number): void {
  const { byStage, busy } = stageTimes(p as CpuProfile, `file://${ROOT}`);
  const pct = (t: number) => `${fmt((100 * t) / busy, 1)} %`;
  const perCall = (t: number) => (calls > 0 ? fmt(t / calls, 2) : '–');
  const rows = STAGES.filter((s) => (byStage.get(s) ?? 0) > 0).map((s) => {
    const t = byStage.get(s)!;
    return [s, pct(t), perCall(t)];
  });
  console.log(`#### By stage of the call chain (self time; rules in bench/profile-stages.ts)\n`);
  console.log(
    table(['stage', 'self', 'µs per call'], [...rows, ['all (non-idle)', '100 %', perCall(busy)]]) + '\n',
  );
}

function analyse(p: Profile, calls: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++)
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const busy =
    total -
    [...self]
      .filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)')
      .reduce((a, [, t]) => a + t, 0);
  const byFn = new Map<string, number>();
  const byPlace = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const place = where(url, functionName);
    const short = repoPath(url, `file://${ROOT}`);
    const key = `${functionName || '(anonymous)'} — ${short}${url ? `:${lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    byPlace.set(place, (byPlace.get(place) ?? 0) + t);
  }
  const pct = (t: number) => `${fmt((100 * t) / busy, 1)} %`;
  const perCall = (t: number) => fmt(t / calls, 2);
  console.log(
    table(
      ['where', 'self', 'µs per call'],
      [...byPlace]
        .filter(([k]) => k !== '(idle)')
        .sort((a, b) => b[1] - a[1])
        .map(([k, t]) => [k, pct(t), perCall(t)]),
    ) + '\n',
  );
  const top = [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
  console.log(
    table(
      ['function — file:line', 'self', 'µs per call'],
      top.slice(0, TOP).map(([k, t]) => [k, pct(t), perCall(t)]),
    ) + '\n',
  );
  const ours = top.filter(([k]) => k.includes(' — dist/'));
  console.log(`#### rxhttp's own functions\n`);
  console.log(
    table(
      ['function — file:line', 'self', 'µs per call'],
      ours.slice(0, TOP).map(([k, t]) => [k, pct(t), perCall(t)]),
    ) + '\n',
  );
}

async function main(): Promise<void> {
  if (FROM) {
    const profile = JSON.parse(readFileSync(FROM, 'utf8')) as Profile;
    const calls = Number(arg('calls') ?? 0);
    console.log(`### Profile: ${FROM} (self time, % of non-idle samples)\n`);
    stages(profile, calls);
    analyse(profile, calls);
    return;
  }
  if (!CONTENDERS.includes(NAME)) throw new Error(`unknown contender ${NAME}`);
  ensureDist();
  const pin = PINNED ? pinning() : undefined;
  if (PINNED && !pin?.ok)
    console.log(`Pinned mode unavailable (${pin?.why}): client and server share the cores.\n`);
  const server = await startServer(undefined, pin?.ok ? pin.server : undefined);
  if (pin?.ok) pinSelf(pin.client);
  const c = await createContender(NAME, server.ports[0]!);
  // An Observable contender is subscribed once per call, its completion awaited: the Rx user's
  // `subscribe`, without throughput.ts's `mergeMap`/`repeat` loop around it.
  const call$ = c.call$;
  const call =
    c.call ??
    (call$ !== undefined
      ? () => new Promise<void>((resolve, reject) => call$().subscribe({ complete: resolve, error: reject }))
      : () => Promise.reject(new Error(`${NAME} has neither call nor call$`)));
  await closedLoop(call, { concurrency: C, count: 30_000, maxMs: 3_000 }); // warm-up
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const r = await closedLoop(call, { concurrency: C, count: 10_000_000, maxMs: SECONDS * 1_000 });
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
  session.disconnect();
  await c.close();
  await server.stop();
  mkdirSync(DIR, { recursive: true });
  writeFileSync(`${DIR}/${NAME.replace(/\W+/g, '-')}.cpuprofile`, JSON.stringify(profile));
  console.log(
    `${r.completed} calls${pin?.ok ? `, client on CPU ${pin.client}, server on CPU ${pin.server}` : ''}, ` +
      `${fmt(r.userUs / r.completed, 1)} µs user + ${fmt(r.systemUs / r.completed, 1)} µs sys CPU per call\n`,
  );
  console.log(`### Profile: ${NAME}, c = ${C}, ${SECONDS} s (self time, % of non-idle samples)\n`);
  stages(profile, r.completed);
  analyse(profile, r.completed);
}

await main();
