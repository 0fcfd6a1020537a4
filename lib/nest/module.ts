import { Module, type DynamicModule } from '@nestjs/common';
import { RxHttpHealthIndicator } from './health.js';
import { RxHttpConfigurableModule, RXHTTP_ASYNC_OPTIONS_TYPE, RXHTTP_OPTIONS_TYPE } from './options.js';
import { RxHttpService } from './service.js';

/**
 * The NestJS module: `RxHttpModule.register(options)` / `registerAsync({ useFactory, inject, imports })`
 * for one module, `forRoot` / `forRootAsync` (with `isGlobal`) app-wide. Provides
 * {@link RxHttpService} and {@link RxHttpHealthIndicator}.
 */
@Module({
  providers: [RxHttpService, RxHttpHealthIndicator],
  exports: [RxHttpService, RxHttpHealthIndicator],
})
export class RxHttpModule extends RxHttpConfigurableModule {
  /** Module-scoped registration, like `HttpModule.register`. */
  static register(options: typeof RXHTTP_OPTIONS_TYPE): DynamicModule {
    return super.forRoot({ ...options, isGlobal: false });
  }

  /** Module-scoped async registration, like `HttpModule.registerAsync`. */
  static registerAsync(options: typeof RXHTTP_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync({ ...options, isGlobal: false });
  }
}
