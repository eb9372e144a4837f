// `nestjs-discord-gateway/metrics`: Prometheus metrics (prom-client). Importing it loads
// prom-client; the other entry points never do.
export { disconnectCode } from './disconnect-cause.js';
export { GatewayMetrics, type GatewayMetricsOptions } from './gateway-metrics.js';
