import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { GatewayModuleOptions } from './interfaces/gateway-module-options.interface.js';

/**
 * `forRoot(options)` and `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`
 * for {@link GatewayModule}, plus the `isGlobal` extra (default `false`). A `useClass` or
 * `useExisting` provider implements {@link GatewayOptionsFactory}.
 */
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: GATEWAY_MODULE_OPTIONS,
  OPTIONS_TYPE: GATEWAY_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: GATEWAY_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<GatewayModuleOptions>({ moduleName: 'DiscordGateway' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createGatewayOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** Options of `GatewayModule.forRoot()`: {@link GatewayModuleOptions} plus `isGlobal`. */
export type GatewayModuleForRootOptions = typeof GATEWAY_OPTIONS_TYPE;
/** Options of `GatewayModule.forRootAsync()`. */
export type GatewayModuleAsyncOptions = typeof GATEWAY_ASYNC_OPTIONS_TYPE;

/** A class that `forRootAsync({ useClass })` or `useExisting` asks for the options. */
export interface GatewayOptionsFactory {
  createGatewayOptions(): GatewayModuleOptions | Promise<GatewayModuleOptions>;
}
