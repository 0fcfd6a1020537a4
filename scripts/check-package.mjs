// `npm run check:package`: packs the library once (prepack builds it) and checks the tarball the way
// the ecosystem does: publint (package.json fields against the files shipped) and
// @arethetypeswrong/cli (types resolve under node10, node16 from ESM and CJS, bundler), plus our own
// checks: dist JS, .d.ts and LICENSE are in, spec/bench/demo/examples are out, every `exports`
// subpath has a typesVersions entry (node10 sees no `exports`), and every source map's sources ship.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
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
