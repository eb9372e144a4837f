export {
  fetchGatewayBot,
  type FetchGatewayBotOptions,
  type GatewayBotInfo,
  type TokenSource,
} from './gateway-bot.js';
export { DEFAULT_USER_AGENT, LIBRARY_VERSION } from './user-agent.js';
