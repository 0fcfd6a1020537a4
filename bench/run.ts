/**
 * Runs every benchmark, each in a process of its own, and prints one markdown report.
 *
 *   npm run bench                       full run (about 12 minutes on 2 cores)
 *   npm run bench -- --quick            smoke run, under a minute, rough figures
 *   npm run bench -- --only throughput,balance
 *   npm run bench -- --write            also puts the report into bench/RESULTS.md (between markers)
 *
 * Builds dist/ first when it is stale, then measures that one build throughout.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { arg, ensureDist, QUICK, ROOT } from './util.js';

interface Bench {
  readonly name: string;
  readonly file: string;
  readonly node?: readonly string[];
  /** Arguments after the file (e.g. `--pinned`). */
  readonly args?: readonly string[];
  /** Left out of --quick (it has its own fixed budget). */
  readonly full?: boolean;
}

const BENCHES: readonly Bench[] = [
  { name: 'throughput', file: 'throughput.ts' },
  // Issue 23: the same contenders' figures with client and server on cores of their own.
  { name: 'throughput-pinned', file: 'throughput.ts', args: ['--pinned'] },
  { name: 'ceiling', file: 'ceiling.ts' },
  { name: 'memory', file: 'memory.ts', node: ['--expose-gc'] },
  { name: 'micro', file: 'micro.ts' },
  { name: 'chain', file: 'chain.ts' },
  { name: 'breaker-window', file: 'breaker-window.ts', full: true },
  { name: 'balance', file: 'balance.ts' },
  { name: 'balance-sim', file: 'balance-sim.ts' },
];

const ONLY = arg('only')?.split(',');
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

function runBench(b: Bench): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = [
      ...(b.node ?? []),
      '--import',
      'tsx',
      fileURLToPath(new URL(b.file, import.meta.url)),
      ...(b.args ?? []),
    ];
    if (QUICK) args.push('--quick');
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_NO_BUILD: '1' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${b.name} exited with ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const t0 = performance.now();
  ensureDist();
  const header = [
    `Run: \`npm run bench${QUICK ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, Node ${process.version}, ${process.platform}/${process.arch}.`,
    'Library measured: the built dist/ (what users run); harness through tsx.',
    '',
  ].join('\n');
  console.log(header);
  const parts = [header];
  const failed: string[] = [];
  for (const b of BENCHES) {
    if (ONLY ? !ONLY.includes(b.name) : QUICK && b.full) continue;
    try {
      const started = performance.now();
      const out = await runBench(b);
      console.error(`bench: ${b.name} took ${((performance.now() - started) / 1_000).toFixed(1)} s`);
      parts.push(
        b.name === 'breaker-window'
          ? ['## Breaker window + reducer', '', '```', out.trim(), '```', ''].join('\n')
          : out,
      );
    } catch (e) {
      failed.push(b.name);
      console.error(String(e));
    }
  }
  console.error(
    `bench: done in ${((performance.now() - t0) / 1_000).toFixed(0)} s${failed.length ? `, failed: ${failed.join(', ')}` : ''}`,
  );
  if (process.argv.includes('--write')) {
    const file = `${ROOT}bench/RESULTS.md`;
    const text = readFileSync(file, 'utf8');
    const a = text.indexOf(BEGIN);
    const z = text.indexOf(END);
    if (a < 0 || z < a) throw new Error(`RESULTS.md lacks the ${BEGIN} … ${END} markers`);
    writeFileSync(file, `${text.slice(0, a + BEGIN.length)}\n\n${parts.join('\n')}\n${text.slice(z)}`);
  }
  if (failed.length) process.exitCode = 1;
}

await main();
