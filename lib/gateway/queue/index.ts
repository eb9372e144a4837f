export type { IdentifyQueue } from './identify-queue.js';
export {
  InMemoryIdentifyQueue,
  type BudgetExhaustedPolicy,
  type IdentifyBudget,
  type IdentifyQueueInsight,
  type InMemoryIdentifyQueueOptions,
} from './in-memory-queue.js';
