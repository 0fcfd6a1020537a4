/**
 * What the environment a spec runs in provides: whether this is CI (where a missing tool fails
 * instead of skipping), whether the running Node is new enough for a suite, and where Chromium is.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

/** Executable names tried on PATH, in order, by {@link findChromium}. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome'] as const;

/**
 * True under CI: `CI` set to anything but '', 'false' or '0' (CI=true, CI=1, CI=yes... as CI services
 * set it). Specs then fail on a missing tool instead of skipping.
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['CI']?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/**
 * A skip message when the running Node is older than `major.minor`, else `false`; pass it as a
 * node:test `skip` option. It skips under CI too: .ci/run runs the suite on newer Node lines as well
 * (scripts/test-node.mjs), and the legs on a new enough Node run the suite.
 *
 * @example
 * ```ts
 * describe('fetch with Request.bytes()', { skip: requireNode(22, 3, 'Request.bytes()') }, () => { ... });
 * ```
 */
export function requireNode(
  major: number,
  minor: number,
  what: string,
  version: string = process.versions.node,
): string | false {
  const [have = 0, haveMinor = 0] = version.split('.').map(Number);
  if (have > major || (have === major && haveMinor >= minor)) return false;
  return `${what} needs Node ${major}.${minor} or later, this is ${version} (CI runs it on Node 22, 24 and 26; here: \`npm run test:node -- 26\`)`;
}

/** The absolute path of executable `name` on `path` (default: PATH), or undefined. */
export function onPath(name: string, path: string = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The Chromium to drive with playwright-core: the first of {@link CHROMIUM_NAMES} on PATH, else
 * playwright's own download if present, else `undefined`.
 */
export function findChromium(path: string = process.env['PATH'] ?? ''): string | undefined {
  for (const name of CHROMIUM_NAMES) {
    const found = onPath(name, path);
    if (found !== undefined) return found;
  }
  try {
    const bundled = chromium.executablePath();
    return bundled !== '' && existsSync(bundled) ? bundled : undefined;
  } catch {
    return undefined; // no browser registered with playwright-core
  }
}

/** Flags for headless Chromium on this sandbox: without the background-networking ones it retries closed hosts. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/**
 * The browser for a Chromium spec and its skip reason: false when found, or under CI (where a missing
 * browser must fail the run, not skip it).
 */
export function chromiumForSpec(): { executable: string | undefined; skip: string | false } {
  const executable = findChromium();
  const skip =
    executable === undefined && !isCI()
      ? 'chromium not found on PATH nor in playwright-core: install the Debian package `chromium` (apt-get install chromium)'
      : false;
  return { executable, skip };
}
