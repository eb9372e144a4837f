export type { IdentifyQueue } from './identify-queue.js';
export {
  DEFAULT_IDENTIFY_MARGIN_MS,
  InMemoryIdentifyQueue,
  type BudgetExhaustedPolicy,
  type IdentifyBudget,
  type IdentifyQueueInsight,
  type InMemoryIdentifyQueueOptions,
} from './in-memory-queue.js';
