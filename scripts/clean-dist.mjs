// Empties dist/ before the build that `npm pack` / `npm publish` run (prepack), so a module deleted
// from lib/ cannot linger in the tarball from an older build.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

rmSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'), { recursive: true, force: true });
