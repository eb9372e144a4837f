export {
  DEFAULT_DISCONNECTED_THRESHOLD_MS,
  DEFAULT_START_GRACE_MS,
  MAX_PROBLEMS,
  judgeHealth,
  type ClusterHealthOptions,
  type GatewayHealthStatus,
  type GatewayHealthVerdict,
  type HealthThresholds,
  type ShardHealthProblem,
  type ShardHealthReport,
  type ShardHealthStatus,
} from './health-verdict.js';
export {
  DEFAULT_STALE_AFTER_MS,
  judgeAcrossProcesses,
  reportForOtherProcesses,
  type AcrossProcessesOptions,
  type ProcessHealthReport,
  type ProcessHealthSource,
} from './across-processes.js';
