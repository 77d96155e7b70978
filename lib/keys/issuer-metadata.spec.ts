import { describe, expect, it } from '@jest/globals';
import { metadataLocations } from './issuer-metadata.js';

describe('where an issuer’s metadata is looked for', () => {
  it.each([
    {
      issuer: 'https://idp.test',
      locations: [
        'https://idp.test/.well-known/openid-configuration',
        'https://idp.test/.well-known/oauth-authorization-server',
      ],
    },
    {
      issuer: 'https://idp.test/',
      locations: [
        'https://idp.test/.well-known/openid-configuration',
        'https://idp.test/.well-known/oauth-authorization-server',
      ],
    },
    {
      issuer: 'http://127.0.0.1:8080/realms/shop',
      locations: [
        'http://127.0.0.1:8080/realms/shop/.well-known/openid-configuration',
        'http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/shop',
        'http://127.0.0.1:8080/realms/shop/.well-known/oauth-authorization-server',
      ],
    },
    {
      issuer: 'https://idp.test/tenant/v2.0/',
      locations: [
        'https://idp.test/tenant/v2.0/.well-known/openid-configuration',
        'https://idp.test/.well-known/oauth-authorization-server/tenant/v2.0',
        'https://idp.test/tenant/v2.0/.well-known/oauth-authorization-server',
      ],
    },
  ])('$issuer', ({ issuer, locations }) => {
    expect(metadataLocations(issuer)).toEqual(locations);
  });
});
