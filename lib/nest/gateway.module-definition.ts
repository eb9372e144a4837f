import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { HeldToken } from './held-token.js';
import type { GatewayModuleOptions } from './interfaces/gateway-module-options.interface.js';

/** The injection token of the module options (the name Nest would derive from `moduleName`). */
const OPTIONS_TOKEN = 'DISCORD_GATEWAY_MODULE_OPTIONS';

/**
 * `forRoot(options)` and `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`
 * for {@link GatewayModule}, plus the `isGlobal` extra (default `false`). A `useClass` or
 * `useExisting` provider implements {@link GatewayOptionsFactory}. The options provider holds
 * the token in a {@link HeldToken}, so nothing in the Nest container shows it.
 */
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: GATEWAY_MODULE_OPTIONS,
  OPTIONS_TYPE: GATEWAY_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: GATEWAY_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<GatewayModuleOptions>({
  moduleName: 'DiscordGateway',
  optionsInjectionToken: OPTIONS_TOKEN,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createGatewayOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    providers: definition.providers?.map(holdToken),
    global: extras.isGlobal,
  }))
  .build();

/** The options provider, made to hold its token; every other provider as it is. */
function holdToken(provider: Provider): Provider {
  if (typeof provider !== 'object' || provider.provide !== OPTIONS_TOKEN) return provider;
  if ('useValue' in provider) {
    return { ...provider, useValue: HeldToken.hold(provider.useValue as GatewayModuleOptions) };
  }
  if ('useFactory' in provider) {
    const factory = provider.useFactory;
    return {
      ...provider,
      useFactory: async (...args: unknown[]) =>
        HeldToken.hold((await factory(...args)) as GatewayModuleOptions),
    };
  }
  return provider;
}

/** Options of `GatewayModule.forRoot()`: {@link GatewayModuleOptions} plus `isGlobal`. */
export type GatewayModuleForRootOptions = typeof GATEWAY_OPTIONS_TYPE;
/** Options of `GatewayModule.forRootAsync()`. */
export type GatewayModuleAsyncOptions = typeof GATEWAY_ASYNC_OPTIONS_TYPE;

/** A class that `forRootAsync({ useClass })` or `useExisting` asks for the options. */
export interface GatewayOptionsFactory {
  createGatewayOptions(): GatewayModuleOptions | Promise<GatewayModuleOptions>;
}
