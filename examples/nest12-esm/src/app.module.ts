import { Module, type DynamicModule } from '@nestjs/common';
import { GatewayModule, type GatewayModuleOptions } from 'nestjs-discord-gateway';
import { Greeter } from './greeter.js';

@Module({})
export class AppModule {
  /** The app with its gateway options: Discord's in main.ts, a FakeGateway's in tests. */
  static register(gateway: GatewayModuleOptions): DynamicModule {
    return { module: AppModule, imports: [GatewayModule.forRoot(gateway)], providers: [Greeter] };
  }
}
