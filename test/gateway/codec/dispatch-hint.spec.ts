import { GatewayDispatchEvents } from 'discord-api-types/v10';
import { dispatchTypeHint } from '../../../lib/gateway/codec/index.js';

const hintOf = (text: string): string | null => dispatchTypeHint(Buffer.from(text, 'utf8'));

describe('dispatchTypeHint', () => {
  it('reads every documented dispatch name from the leading bytes of Discord order', () => {
    for (const name of Object.values(GatewayDispatchEvents) as string[]) {
      expect(hintOf(`{"t":"${name}","s":5,"op":0,"d":{}}`)).toBe(name);
    }
  });

  it('reads an undocumented name too, and a documented name with a changed letter as itself', () => {
    expect(hintOf('{"t":"SOMETHING_NEW_2","s":5,"op":0,"d":{}}')).toBe('SOMETHING_NEW_2');
    expect(hintOf('{"t":"MESSAGE_CREATF","s":5,"op":0,"d":{}}')).toBe('MESSAGE_CREATF');
    expect(hintOf('{"t":"MESSAGE_CREATE_","s":5,"op":0,"d":{}}')).toBe('MESSAGE_CREATE_');
    expect(hintOf('{"t":"MESSAGE_CREAT","s":5,"op":0,"d":{}}')).toBe('MESSAGE_CREAT');
  });

  it.each([
    ['another key order', '{"op":0,"t":"MESSAGE_CREATE","s":5,"d":{}}'],
    ['whitespace', '{ "t":"MESSAGE_CREATE","s":5,"op":0,"d":{}}'],
    ['a null t', '{"t":null,"s":null,"op":11,"d":null}'],
    ['an empty name', '{"t":"","s":5,"op":0,"d":{}}'],
    ['lower-case letters', '{"t":"message_create","s":5,"op":0,"d":{}}'],
    ['an escape in the name', '{"t":"MESSAGE\\u005fCREATE","s":5,"op":0,"d":{}}'],
    ['an unterminated name', '{"t":"MESSAGE_CRE'],
    ['a name over 64 bytes', `{"t":"${'A'.repeat(65)}","s":5,"op":0,"d":{}}`],
  ])('gives no hint for %s', (_case, text) => {
    expect(hintOf(text)).toBeNull();
  });
});
