export { type Clock, type TimerHandle, systemClock } from './clock.js';
export { ManualClock } from './manual-clock.js';
