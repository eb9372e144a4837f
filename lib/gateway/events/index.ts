export {
  EventType,
  LifecycleEventType,
  ALL_EVENT_TYPES,
  type DispatchEventType,
  type EventTypeName,
} from './event-type.js';
export { EventTypeFlags, eventTypeFlag } from './event-type-flags.js';
export type * from './gateway-event.js';
export {
  INTENT_NAMES,
  KNOWN_INTENTS,
  PRIVILEGED_INTENTS,
  intentNames,
  isIntentName,
  parseIntents,
  privilegedIntentNames,
  type DocumentedIntentName,
  type IntentName,
  type ParsedIntents,
} from './intents.js';
export {
  EVENT_GATES,
  eventGate,
  intentsForEvent,
  messageContentMissing,
  missingIntentsFor,
  type EventGate,
} from './event-intents.js';
