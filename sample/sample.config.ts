import type { GatewayModuleOptions } from 'nestjs-discord-gateway';

/** How the sample runs: against Discord (DISCORD_TOKEN set) or the embedded FakeGateway. */
export interface SampleConfig {
  readonly mode: 'discord' | 'embedded';
  /** Options for GatewayModule.forRoot. */
  readonly gateway: GatewayModuleOptions;
  /** REST base without the version, for @discordjs/rest (e.g. `https://discord.com/api`). */
  readonly restApi: string;
  /** Print a stats line this often, in ms. */
  readonly statsEveryMs: number;
}

/** Injection token of {@link SampleConfig}. */
export const SAMPLE_CONFIG = Symbol('SAMPLE_CONFIG');
