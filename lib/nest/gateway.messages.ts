/**
 * Every log line and error text the Nest module writes. None of them takes an option value,
 * so none can carry the token.
 */

/** `Class.method`, as handlers are named in every message. */
export const handlerName = (className: string, methodName: string): string =>
  `${className}.${methodName}`;

export const HANDLER_FAILED = (handler: string, type: string, shardId: number): string =>
  `Handler ${handler} failed on ${type} (shard ${shardId}); other handlers and the shard go on`;

export const HANDLER_COMMAND_DROPPED = (handler: string, type: string, shardId: number): string =>
  `Handler ${handler} on ${type} (shard ${shardId}): its command was not sent, the shard was closed`;

export const GUARD_REJECTED = (handler: string, type: string, shardId: number): string =>
  `A guard rejected ${type} (shard ${shardId}) for ${handler}; handler skipped`;

export const HANDLER_BOUND = (handler: string, types: readonly string[], path: string): string =>
  `Bound ${handler} to ${types.join(', ')} (${path})`;

export const CATCH_ALL_HANDLERS = (handlers: readonly string[]): string =>
  `Catch-all handler${handlers.length === 1 ? '' : 's'} ${handlers.join(', ')}: ` +
  'the decode filter is off, every dispatch is decoded';

export const COMPUTED_EVENT_TYPES = (types: readonly string[]): string =>
  types.length === 0
    ? 'No handler is bound: dispatches are decoded only for events$() subscribers'
    : `Decoding ${types.length} event type${types.length === 1 ? '' : 's'} the handlers ask for: ${types.join(', ')}`;

export const EXPLICIT_EVENT_TYPES_EXCLUDE = (handler: string, type: string): string =>
  `${handler} handles ${type}, which the configured eventTypes leave out: it will not be called`;

export const UNKNOWN_EVENT_TYPE = (handler: string, type: string): string =>
  `${handler} handles "${type}", which is no known event type: it will not be called ` +
  '(unknown dispatches arrive as UNKNOWN_EVENT)';

export const MISSING_INTENTS = (
  handler: string,
  type: string,
  intents: readonly string[],
): string =>
  `${handler} handles ${type}, which needs the ${intents.join(' or ')} intent` +
  `${intents.length === 1 ? '' : ' (any one)'}, and none is configured: Discord will not send it`;

export const MISSING_MESSAGE_CONTENT = (handler: string, type: string): string =>
  `${handler} handles ${type} without the MessageContent intent: content, embeds, attachments ` +
  'and components arrive empty (except in DMs and messages that mention the bot)';

export const REQUEST_SCOPED_HANDLER = (handler: string): string =>
  `${handler} is request-scoped: a new instance is resolved for every event`;

export const CONNECT_ON_BOOTSTRAP_OFF =
  'connectOnBootstrap is false: the shards start when ClusterService.up() is called';

export const SHUTDOWN_RESUMABLE = (signal: string | undefined): string =>
  `Shutting down${signal ? ` (${signal})` : ''}: closing resumably, sessions saved for the next start`;

export const SHUTDOWN_END = (signal: string | undefined): string =>
  `Shutting down${signal ? ` (${signal})` : ''}: ending the sessions (close 1000)`;

export const SHUTDOWN_FAILED = 'Closing the shards failed';

export const SHUTDOWN_HOOKS_MISSING = (signals: readonly string[]): string =>
  `No ${signals.join(' or ')} listener: on ${signals.length === 1 ? 'that signal' : 'either'} the ` +
  'process exits without saving the sessions, and the next start identifies every shard again. ' +
  'Call app.enableShutdownHooks() after creating the application.';

export const RULE_SHUTDOWN = "must be one of 'auto', 'resumable', 'end'";
export const RULE_BOOLEAN = 'must be a boolean';
export const RULE_LOG_LEVEL = "must be one of 'error', 'warn', 'log', 'debug'";
export const RULE_SESSION_STORE = 'must implement load(), save() and delete()';
export const RULE_QUEUE = 'must implement enqueue()';
export const RULE_EVENT_SINK = 'must implement attach(), publish(), sessionToSave() and detach()';
export const RULE_CLOCK = 'must implement now(), setTimeout() and clearTimeout()';
export const RULE_METRICS =
  'must implement bind() and handlerTimer(), like GatewayMetrics of nestjs-discord-gateway/metrics';
