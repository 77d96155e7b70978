import { describe, expect, it } from '@jest/globals';
import { tokenFromMessage } from './message-token.js';

// The token a message carries, in each place a transport puts it.
describe('tokenFromMessage', () => {
  const headersContext = (headers: unknown) => ({ getHeaders: () => headers });
  const messageContext = (message: unknown) => ({ getMessage: () => message });

  it.each([
    ['the payload metadata, with the scheme', { metadata: { authorization: 'Bearer a.b.c' } }, {}],
    ['the payload metadata, bare', { metadata: { authorization: 'a.b.c' } }, {}],
    ['NATS headers (a map)', {}, headersContext(new Map([['authorization', 'Bearer a.b.c']]))],
    ['headers as an object', {}, headersContext({ authorization: 'Bearer a.b.c' })],
    [
      'RabbitMQ message properties',
      {},
      messageContext({ properties: { headers: { authorization: 'Bearer a.b.c' } } }),
    ],
    ['Kafka headers, a string', {}, messageContext({ headers: { authorization: 'Bearer a.b.c' } })],
    [
      'Kafka headers, a Buffer',
      {},
      messageContext({ headers: { authorization: Buffer.from('Bearer a.b.c') } }),
    ],
  ])('reads %s', (_place, data, context) => {
    expect(tokenFromMessage(data, context)).toBe('a.b.c');
  });

  it.each([
    ['no token anywhere', {}, {}],
    ['a number', { metadata: { authorization: 42 } }, {}],
    ['an empty header', {}, messageContext({ headers: { authorization: '' } })],
    ['a null context', null, null],
  ])('finds none in %s', (_case, data, context) => {
    expect(tokenFromMessage(data, context)).toBeUndefined();
  });
});
