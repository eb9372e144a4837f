import { GatewayIntentBits } from 'discord-api-types/v10';
import {
  INTENT_NAMES,
  KNOWN_INTENTS,
  PRIVILEGED_INTENTS,
  intentNames,
  isIntentName,
  parseIntents,
  privilegedIntentNames,
} from '../../../lib/gateway/events/index.js';

describe('intents (docs/protocol.md section 16)', () => {
  it('the masks equal the totals computed in docs/protocol.md section 16', () => {
    expect(KNOWN_INTENTS).toBe(53608447);
    expect(PRIVILEGED_INTENTS).toBe(33026);
    expect(KNOWN_INTENTS & ~PRIVILEGED_INTENTS).toBe(53575421);
  });

  it('the documented bits are 0-16, 20, 21, 24 and 25 (17-19, 22, 23 undocumented)', () => {
    const bits = INTENT_NAMES.map((name) => Math.log2(GatewayIntentBits[name]));
    expect(bits).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 20, 21, 24, 25,
    ]);
  });

  it('intentNames and privilegedIntentNames list documented names in bit order', () => {
    expect(intentNames(513)).toEqual(['Guilds', 'GuildMessages']);
    expect(intentNames(KNOWN_INTENTS)).toEqual([...INTENT_NAMES]);
    expect(intentNames(1 << 17)).toEqual([]);
    expect(privilegedIntentNames(KNOWN_INTENTS)).toEqual([
      'GuildMembers',
      'GuildPresences',
      'MessageContent',
    ]);
    expect(
      privilegedIntentNames(GatewayIntentBits.Guilds | GatewayIntentBits.MessageContent),
    ).toEqual(['MessageContent']);
    expect(privilegedIntentNames(513)).toEqual([]);
  });

  describe('parseIntents', () => {
    it('accepts a documented bitfield as is', () => {
      expect(parseIntents(513)).toEqual({ intents: 513, problems: [] });
      expect(parseIntents(0)).toEqual({ intents: 0, problems: [] });
      expect(parseIntents(KNOWN_INTENTS)).toEqual({ intents: KNOWN_INTENTS, problems: [] });
    });

    it('reports undocumented bits by number (the gateway would close with 4013)', () => {
      const { problems } = parseIntents(1 + 2 ** 17 + 2 ** 23 + 2 ** 40);
      expect(problems).toEqual([
        { path: 'intents', rule: expect.stringContaining('bit(s) 17, 23, 40') },
      ]);
      expect(problems[0].rule).toContain('4013');
    });

    it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])(
      'reports %p as not a bitfield',
      (value) => {
        expect(parseIntents(value).problems).toEqual([
          { path: 'intents', rule: 'must be a non-negative integer bitfield' },
        ]);
      },
    );

    it('ORs names together, aliases and duplicates included', () => {
      expect(parseIntents(['Guilds', 'GuildMessages', 'MessageContent', 'Guilds'])).toEqual({
        intents: 1 | 512 | 32768,
        problems: [],
      });
      expect(parseIntents(['GuildBans', 'GuildEmojisAndStickers']).intents).toBe(
        GatewayIntentBits.GuildModeration | GatewayIntentBits.GuildExpressions,
      );
      expect(parseIntents([])).toEqual({ intents: 0, problems: [] });
    });

    it('reports every entry that is not a name, by position and never by value', () => {
      const { problems } = parseIntents(
        ['Guilds', 'guilds', 3, 'NotAnIntent', '1', 'toString'],
        'shard.intents',
      );
      expect(problems.map((problem) => problem.path)).toEqual([
        'shard.intents[1]',
        'shard.intents[2]',
        'shard.intents[3]',
        'shard.intents[4]',
        'shard.intents[5]',
      ]);
      expect(JSON.stringify(problems)).not.toContain('NotAnIntent');
    });

    it.each([['513'], [null], [undefined], [{ Guilds: true }]])(
      'reports %p as the wrong type',
      (value) => {
        expect(parseIntents(value).problems).toEqual([
          { path: 'intents', rule: 'must be an integer bitfield or an array of intent names' },
        ]);
      },
    );
  });

  it('isIntentName knows the GatewayIntentBits keys only (not the enum reverse mapping)', () => {
    expect(isIntentName('GuildMessages')).toBe(true);
    expect(isIntentName('GuildBans')).toBe(true);
    expect(isIntentName('1')).toBe(false);
    expect(isIntentName('hasOwnProperty')).toBe(false);
  });
});
