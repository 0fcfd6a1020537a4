/**
 * `rxhttp/nest`: rxhttp as a drop-in for `@nestjs/axios` (NestJS 11: the peer range is `^11`).
 * Loads `reflect-metadata`; the core entry `rxhttp` never loads anything of Nest.
 *
 * @example
 * ```ts
 * @Module({ imports: [RxHttpModule.register({ groups: { users: 'static://127.0.0.1:8081' } })] })
 * export class AppModule {}
 * ```
 */
import 'reflect-metadata';
export { RxHttpModule, type RxHttpModuleAsyncOptions } from './module.js';
export { RxHttpService } from './service.js';
export type { RxHttpBody, RxHttpRequest } from './body.js';
export { RxHttpHealthIndicator, type RxHttpHealthResult } from './health.js';
export { RxHttpDeadlineInterceptor, type RxHttpDeadlineOptions } from './deadline.js';
export {
  RXHTTP_MODULE_OPTIONS,
  type RxHttpModuleOptions,
  type RxHttpOptionsFactory,
  type GroupSpec,
} from './options.js';
