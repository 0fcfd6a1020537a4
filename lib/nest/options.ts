import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ClientConfig } from '../client/config.js';
import type { AddressGroup, AddressGroupOptions } from '../group/address-group.js';

/**
 * A named group: a target string (`'dns+srv://…'`, `'static://…'`), a ready `AddressGroup`
 * (which stays the caller's to close), or a target with `AddressGroupOptions`.
 */
export type GroupSpec =
  string | AddressGroup | { readonly target: string; readonly options?: AddressGroupOptions };

/** Options of {@link RxHttpModule}: a `ClientConfig` plus named groups. */
export interface RxHttpModuleOptions extends ClientConfig {
  /**
   * Groups by name: with `{ users: 'dns+srv://_http._tcp.users.default.svc.cluster.local' }`,
   * `http://users/...` goes through that group. Names are host-like (`[A-Za-z0-9_.-]`).
   */
  readonly groups?: Readonly<Record<string, GroupSpec>>;
  /**
   * Registers {@link RxHttpDeadlineInterceptor} app-wide (`forRoot` / `register` only; with the async
   * forms use `app.useGlobalInterceptors(new RxHttpDeadlineInterceptor())`): an incoming request's
   * deadline header (`deadlineHeader`) becomes the deadline of every call made while handling it.
   * @defaultValue false
   */
  readonly incomingDeadline?: boolean;
}

/** For `registerAsync({ useClass })` / `forRootAsync({ useExisting })`, like `HttpModuleOptionsFactory`. */
export interface RxHttpOptionsFactory {
  /** The module options, or a Promise of them. */
  createRxHttpOptions(): RxHttpModuleOptions | Promise<RxHttpModuleOptions>;
}

/**
 * Nest's generated module builder. `RXHTTP_MODULE_OPTIONS` is the injection token of the resolved
 * {@link RxHttpModuleOptions}: `@Inject(RXHTTP_MODULE_OPTIONS) options: RxHttpModuleOptions`.
 */
export const {
  ConfigurableModuleClass: RxHttpConfigurableModule,
  MODULE_OPTIONS_TOKEN: RXHTTP_MODULE_OPTIONS,
  OPTIONS_TYPE: RXHTTP_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RXHTTP_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RxHttpModuleOptions>()
  // forRoot/forRootAsync are generated; register/registerAsync are the module-scoped twins.
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRxHttpOptions')
  // isGlobal is an extra: Nest strips it from the options, so ClientConfig never sees it.
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
