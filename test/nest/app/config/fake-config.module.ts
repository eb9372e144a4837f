import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import type { GatewayModuleOptions, GatewayOptionsFactory } from '../../../../lib/nest/index.js';

/** Stands in for an app's ConfigModule: hands out the gateway options under a token. */
export const FAKE_GATEWAY_CONFIG = 'FAKE_GATEWAY_CONFIG';

@Module({})
export class FakeConfigModule {
  static register(options: GatewayModuleOptions): DynamicModule {
    return {
      module: FakeConfigModule,
      providers: [{ provide: FAKE_GATEWAY_CONFIG, useValue: options }],
      exports: [FAKE_GATEWAY_CONFIG],
    };
  }
}

/** A `forRootAsync({ useClass })` options factory with an injected dependency. */
@Injectable()
export class GatewayConfigService implements GatewayOptionsFactory {
  static created = 0;

  constructor(@Inject(FAKE_GATEWAY_CONFIG) private readonly options: GatewayModuleOptions) {
    GatewayConfigService.created += 1;
  }

  createGatewayOptions(): GatewayModuleOptions {
    return { ...this.options };
  }
}
