// `nestjs-discord-gateway/health`: the @nestjs/terminus indicator. Without terminus, use
// `ClusterService.health()` (or `Cluster.health()`), which gives the same verdict as JSON.
export { GatewayHealthIndicator } from './gateway-health.indicator.js';
