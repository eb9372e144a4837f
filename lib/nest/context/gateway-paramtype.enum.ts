/**
 * Parameter types of the gateway's parameter decorators. The values stay clear of Nest's
 * own `RouteParamtypes` (0-12) because both live under the same metadata key, which also
 * lets `createParamDecorator()` decorators work on gateway handlers.
 */
export enum GatewayParamType {
  PAYLOAD = 1_000,
  SHARD_ID = 1_001,
  CONTEXT = 1_002,
}
