// `npm run check:package`: packs the library once (prepack builds it) and checks the tarball the way
// the ecosystem does: publint (package.json fields against the files shipped) and
// @arethetypeswrong/cli (types resolve under node10, node16 from ESM and CJS, bundler), plus our own
// checks: dist JS, .d.ts and LICENSE are in, spec/bench/demo/examples are out, every `exports`
// subpath has a typesVersions entry (node10 sees no `exports`), every source map's sources ship, and
// the browser entries (rxhttp/operators, rxhttp/angular) reach no Node built-in, undici or prom-client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Entries that must load in a browser: their shipped import graph is checked for Node-only imports. */
const BROWSER_ENTRIES = ['dist/operators/index.js', 'dist/angular/index.js'];
const NODE_BUILTINS = new Set(builtinModules);
const bin = (name) => join(root, 'node_modules', '.bin', name);
const problems = [];

const dir = mkdtempSync(join(tmpdir(), 'rxhttp-pack-'));
try {
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  const tarball = join(dir, name);
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  const has = (re) => files.some((f) => re.test(f));
  if (!has(/^dist\/.*\.js$/)) problems.push('no dist/**/*.js in the tarball');
  if (!has(/^dist\/.*\.d\.ts$/)) problems.push('no dist/**/*.d.ts in the tarball');
  if (!files.includes('LICENSE')) problems.push('no LICENSE in the tarball');
  for (const f of files.filter((f) => /^(spec|bench|demo|examples|scripts)\//.test(f)))
    problems.push(`ships ${f}`);

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const typesVersions = pkg.typesVersions?.['*'] ?? {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === '.' || typeof target === 'string') continue;
    const key = subpath.slice(2);
    const mapped = typesVersions[key]?.[0]?.replace(/^\.\//, '');
    if (mapped !== target.types.replace(/^\.\//, ''))
      problems.push(
        `exports "${subpath}" has types ${target.types} but typesVersions["*"]["${key}"] is ${mapped}`,
      );
  }

  // A source map whose `sources` are not in the tarball sends stack traces and debuggers to files that do not exist.
  const maps = files.filter((f) => f.endsWith('.map'));
  for (const m of maps) {
    const map = JSON.parse(execFileSync('tar', ['-xzOf', tarball, `package/${m}`], { encoding: 'utf8' }));
    for (const s of map.sources) {
      const target = posix.normalize(posix.join(posix.dirname(m), map.sourceRoot ?? '', s));
      if (!files.includes(target) && map.sourcesContent === undefined)
        problems.push(`${m}: source ${target} not shipped`);
    }
  }
  // The browser-safe entries, as shipped: nothing reachable from them may import a Node built-in,
  // undici or prom-client (the specs check the sources; this checks the compiled tarball).
  const readShipped = (f) => execFileSync('tar', ['-xzOf', tarball, `package/${f}`], { encoding: 'utf8' });
  for (const entry of BROWSER_ENTRIES) {
    const seen = new Set();
    const queue = [entry];
    while (queue.length > 0) {
      const file = queue.pop();
      if (seen.has(file)) continue;
      seen.add(file);
      if (!files.includes(file)) {
        problems.push(`${entry}: imports ${file}, which is not shipped`);
        continue;
      }
      for (const [, spec] of readShipped(file).matchAll(
        /(?:^|[;\s])(?:import|export)\b[^'"]*?['"]([^'"]+)['"]/g,
      )) {
        if (spec.startsWith('.')) queue.push(posix.normalize(posix.join(posix.dirname(file), spec)));
        else if (/^(node:|undici$|undici\/|prom-client$)/.test(spec) || NODE_BUILTINS.has(spec))
          problems.push(`${entry} is meant for browsers but ${file} imports ${spec}`);
      }
    }
  }
  console.log(`check-package: ${name}: ${files.length} files, ${maps.length} source maps checked`);

  execFileSync(bin('publint'), ['run', '--strict', tarball], { stdio: 'inherit' });
  // ESM only, by design (one module graph: one resolver registry, one instanceof for errors). A
  // CommonJS caller under TypeScript's node16 model reaches it through import() only, which attw
  // reports as "CJS resolves to ESM"; that one rule is ignored and every other one stays on.
  execFileSync(bin('attw'), [tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table-flipped'], {
    stdio: 'inherit',
  });
} catch (err) {
  problems.push(err instanceof Error ? err.message.split('\n')[0] : String(err));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`check-package: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('check-package: clean (tarball contents, typesVersions, source maps, publint, attw)');
