/** The package version sent in the User-Agent; a test keeps it equal to package.json's. */
export const LIBRARY_VERSION = '0.1.0';

/** The project URL sent in the User-Agent. */
export const LIBRARY_URL = 'https://github.com/nestjs-discord-gateway/nestjs-discord-gateway';

/** Discord's required form `DiscordBot ($url, $versionNumber)` (Discord API reference: User Agent). */
export const DEFAULT_USER_AGENT = `DiscordBot (${LIBRARY_URL}, ${LIBRARY_VERSION})`;
