import { Module, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { RxHttpDeadlineInterceptor } from './deadline.js';
import { RxHttpHealthIndicator } from './health.js';
import {
  RxHttpConfigurableModule,
  RXHTTP_ASYNC_OPTIONS_TYPE,
  RXHTTP_OPTIONS_TYPE,
  type RxHttpModuleOptions,
} from './options.js';
import { RxHttpService } from './service.js';

/** `registerAsync` options: `useFactory` + `inject`, `useClass` or `useExisting`, and `imports`. */
export type RxHttpModuleAsyncOptions = Omit<typeof RXHTTP_ASYNC_OPTIONS_TYPE, 'isGlobal'>;

/**
 * The NestJS module, like `@nestjs/axios`'s `HttpModule`: `register(options)` /
 * `registerAsync({ useFactory, inject, imports })` for the importing module, `forRoot` /
 * `forRootAsync` (with `isGlobal: true` to skip importing it everywhere) for the app. Provides
 * {@link RxHttpService} and {@link RxHttpHealthIndicator}.
 *
 * @example
 * ```ts
 * @Module({ imports: [RxHttpModule.register({ groups: { users: 'static://10.0.0.1:8080,10.0.0.2:8080' } })] })
 * export class UsersModule {}
 * ```
 */
@Module({
  providers: [RxHttpService, RxHttpHealthIndicator],
  exports: [RxHttpService, RxHttpHealthIndicator],
})
export class RxHttpModule extends RxHttpConfigurableModule {
  /** App-wide registration; `incomingDeadline: true` also registers {@link RxHttpDeadlineInterceptor}. */
  static override forRoot(options: typeof RXHTTP_OPTIONS_TYPE): DynamicModule {
    const module = super.forRoot(options);
    if (options?.incomingDeadline !== true) return module;
    // Only when asked: a global interceptor costs every request of the app a little.
    return {
      ...module,
      providers: [
        ...(module.providers ?? []),
        { provide: APP_INTERCEPTOR, useClass: RxHttpDeadlineInterceptor },
      ],
    };
  }

  /** Module-scoped registration, like `HttpModule.register`. */
  static register(options: RxHttpModuleOptions = {}): DynamicModule {
    return RxHttpModule.forRoot({ ...options, isGlobal: false });
  }

  /** Module-scoped async registration, like `HttpModule.registerAsync`. */
  static registerAsync(options: RxHttpModuleAsyncOptions): DynamicModule {
    return super.forRootAsync({ ...options, isGlobal: false });
  }
}
