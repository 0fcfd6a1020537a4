import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ClientConfig } from '../client/config.js';
import type { AddressGroup, AddressGroupOptions } from '../group/address-group.js';

/** A named group: a target string, a ready `AddressGroup`, or a target with options. */
export type GroupSpec =
  string | AddressGroup | { readonly target: string; readonly options?: AddressGroupOptions };

/** Options of {@link RxHttpModule}: a `ClientConfig` plus named groups. */
export interface RxHttpModuleOptions extends ClientConfig {
  /** `{ users: 'dns+srv://_users._tcp.svc.cluster.local' }`: `http://users/...` then goes through that group. */
  readonly groups?: Readonly<Record<string, GroupSpec>>;
}

export const {
  ConfigurableModuleClass: RxHttpConfigurableModule,
  MODULE_OPTIONS_TOKEN: RXHTTP_MODULE_OPTIONS,
  OPTIONS_TYPE: RXHTTP_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RXHTTP_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RxHttpModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
