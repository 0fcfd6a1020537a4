import { requireNode } from './ci-env.js';

/**
 * The node:test `skip` of the Angular specs: the devDependency Angular (21) declares engines
 * `^20.19.0 || ^22.12.0 || >=24.0.0`, which every CI leg meets (20.20, 22, 24, 26); on an older
 * Node 20 (the package itself supports 20.18.1 up) they skip with a message instead of failing.
 */
export const ANGULAR_SKIP = requireNode(20, 19, 'the Angular 21 specs (@angular/core engines ^20.19.0)');
