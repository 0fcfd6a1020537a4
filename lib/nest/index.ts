/**
 * `rxhttp/nest`: rxhttp as a drop-in for `@nestjs/axios` (Nest 10 or 11, Node 20).
 *
 * @example
 * ```ts
 * @Module({ imports: [RxHttpModule.register({ groups: { users: 'static://127.0.0.1:8081' } })] })
 * export class AppModule {}
 * ```
 */
import 'reflect-metadata';
export { RxHttpModule } from './module.js';
export { RxHttpService } from './service.js';
export { RxHttpHealthIndicator, type RxHttpHealthResult } from './health.js';
export { RXHTTP_MODULE_OPTIONS, type RxHttpModuleOptions, type GroupSpec } from './options.js';
