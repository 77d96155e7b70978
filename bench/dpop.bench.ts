// What a DPoP request costs the server over a Bearer one: `npm run bench`.
//
// The request path of the guard (`RequestAuthenticator.authenticate`) on requests as an HTTP
// adapter hands them over, in process: a Bearer request with an unbound token, and a DPoP
// request with a token bound to the client's key and a fresh proof (a new `jti` each, as a client
// makes one per request), for ES256 and EdDSA proofs. The access token is the same on every
// request of a kind, so the verified-token cache answers for it, as in steady traffic: what is
// left is what DPoP adds, the proof's checks and its entry in the (in-memory) replay cache. Next
// to them, one `crypto.verify` of a proof's signature: the floor of any proof check.
//
// CPU time (user + system) per request, each request awaited before the next; the kinds take
// turns in rounds; medians of the rounds, with their lowest and highest.
//
// Optional arguments: --rounds=N --requests=N (per kind and round).

import {
  randomUUID,
  sign,
  verify as cryptoVerify,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { RequestAuthenticator } from '../lib/authentication/request-authenticator.js';
import { accessTokenHash } from '../lib/dpop/dpop-proof-verifier.js';
import { jwkThumbprint } from '../lib/dpop/jwk-thumbprint.js';
import { cryptoParams, keyWithParams, type SigningAlgorithm } from '../lib/keys/algorithms.js';
import { createDpopPolicy } from '../lib/options/create-dpop-policy.js';
import { createTokenVerifier } from '../lib/options/create-token-verifier.js';
import { resolveAuthOptions } from '../lib/options/resolve-auth-options.js';
import { TestIssuer } from '../lib/testing/test-issuer.js';
import { numberArgument } from './arguments.js';
import { machineLine, median } from './harness.js';

const ROUNDS = numberArgument('rounds', 7);
const REQUESTS = numberArgument('requests', 3000);
const HOST = 'api.bench';
const PATH = '/items';

interface BenchRequest {
  readonly headers: Record<string, string>;
  readonly method: string;
  readonly url: string;
}

interface Kind {
  readonly label: string;
  /** One request after the other, each awaited. */
  run(count: number): Promise<void>;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function keyPair(alg: SigningAlgorithm): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: pair.privateKey,
    jwk: pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
  };
}

function proof(alg: SigningAlgorithm, key: ReturnType<typeof keyPair>, token: string): string {
  const input = `${b64url({ typ: 'dpop+jwt', alg, jwk: key.jwk })}.${b64url({
    jti: randomUUID(),
    htm: 'GET',
    htu: `http://${HOST}${PATH}`,
    iat: Math.floor(Date.now() / 1000),
    ath: accessTokenHash(token),
  })}`;
  const signature = sign(
    cryptoParams(alg).digest,
    Buffer.from(input),
    keyWithParams(key.privateKey, alg),
  );
  return `${input}.${signature.toString('base64url')}`;
}

async function main(): Promise<void> {
  const issuer = TestIssuer.create({ audience: 'api' });
  const options = resolveAuthOptions({ issuers: [issuer.trusted], audience: 'api', dpop: {} });
  const authenticator = new RequestAuthenticator(
    createTokenVerifier(options),
    undefined,
    options.tokenSources,
    createDpopPolicy(options, undefined),
  );
  const bearer = issuer.token();
  const bearerRequest: BenchRequest = {
    headers: { authorization: `Bearer ${bearer}`, host: HOST },
    method: 'GET',
    url: PATH,
  };
  const off = resolveAuthOptions({ issuers: [issuer.trusted], audience: 'api' });
  const withoutDpop = new RequestAuthenticator(
    createTokenVerifier(off),
    undefined,
    off.tokenSources,
  );
  const kinds: Kind[] = [
    {
      label: 'Bearer, unbound token (cached), DPoP off',
      run: async (count) => {
        for (let i = 0; i < count; i++) await withoutDpop.authenticate(bearerRequest);
      },
    },
    {
      label: 'Bearer, unbound token (cached), DPoP on',
      run: async (count) => {
        for (let i = 0; i < count; i++) await authenticator.authenticate(bearerRequest);
      },
    },
  ];
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const key = keyPair(alg);
    const token = issuer.token({ cnf: { jkt: jwkThumbprint(key.jwk) } });
    // Made beforehand, outside the timing: a client's cost, not the server's.
    const proofs = Array.from({ length: REQUESTS * (ROUNDS + 1) }, () => proof(alg, key, token));
    let next = 0;
    kinds.push({
      label: `DPoP, bound token (cached) + ${alg} proof`,
      run: async (count) => {
        for (let i = 0; i < count; i++) {
          await authenticator.authenticate({
            headers: { authorization: `DPoP ${token}`, dpop: proofs[next++], host: HOST },
            method: 'GET',
            url: PATH,
          });
        }
      },
    });
    const one = proofs[0];
    const dot = one.lastIndexOf('.');
    const input = Buffer.from(one.slice(0, dot));
    const signature = Buffer.from(one.slice(dot + 1), 'base64url');
    const publicKey = { key: key.jwk, format: 'jwk' } as const;
    const imported = (await import('node:crypto')).createPublicKey(publicKey);
    kinds.push({
      label: `one \`crypto.verify\` of an ${alg} proof (the floor)`,
      run: async (count) => {
        for (let i = 0; i < count; i++) {
          if (
            !cryptoVerify(cryptoParams(alg).digest, input, keyWithParams(imported, alg), signature)
          ) {
            throw new Error('the proof does not verify');
          }
          await undefined;
        }
      },
    });
  }
  // Warm-up: the JIT, the verified-token cache, the proof keys.
  for (const kind of kinds) await kind.run(REQUESTS);
  const perRequest = kinds.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(k + round) % kinds.length];
      const started = process.cpuUsage();
      await kind.run(REQUESTS);
      const used = process.cpuUsage(started);
      perRequest[kinds.indexOf(kind)].push((used.user + used.system) / REQUESTS);
    }
  }
  const bearerCost = median(perRequest[0]);
  console.log(`## DPoP: server CPU per request\n\n${machineLine()}\n`);
  console.log(
    `${ROUNDS} rounds of ${REQUESTS} requests per kind; medians (lowest – highest round)\n`,
  );
  console.log('| request | CPU µs per request | × Bearer | × one signature check |');
  console.log('| --- | --- | --- | --- |');
  kinds.forEach((kind, i) => {
    const runs = perRequest[i];
    const m = median(runs);
    const spread = `${Math.min(...runs).toFixed(1)} – ${Math.max(...runs).toFixed(1)}`;
    // A DPoP row is followed by the signature check of its algorithm.
    const floor = kind.label.startsWith('DPoP') ? median(perRequest[i + 1]) : undefined;
    const overFloor = floor === undefined ? '' : `${(m / floor).toFixed(2)}×`;
    console.log(
      `| ${kind.label} | ${m.toFixed(1)} (${spread}) | ${(m / bearerCost).toFixed(0)}× | ${overFloor} |`,
    );
  });
}

await main();
