import { access } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  isSigningAlgorithm,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from '../keys/algorithms.js';
import type { JwkSet } from '../keys/jwk.js';
import { readKeyFile, writeKeyFile } from '../issue/key-file.js';
import { generateSigningJwk, KeyRing } from '../issue/key-ring.js';
import { describeKeySet, rotateKeySet } from '../issue/key-rotation.js';

/** Where the command writes: results to `out`, messages to `err`. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  now?(): number;
}

const USAGE = `usage:
  nest-tessera keys generate --alg EdDSA|ES256|ES384|RS256|PS256|… --out <file> [--kid <kid>] [--force]
  nest-tessera keys generate --alg <alg> --print-private      (private key to stdout)
  nest-tessera keys rotate --file <file> [--alg <alg>] [--publish-ahead <s>] [--retain <s>]
  nest-tessera keys public --file <file> [--retain <s>]
  nest-tessera keys list --file <file> [--retain <s>]

  The file is a JWKS of private keys (mode 0600). A rotated-in key is published at once and signs
  after --publish-ahead seconds (default 900, at least the verifiers' JWKS cache TTL); a retired
  key stays published for --retain seconds (default 86400, at least the longest token lifetime).`;

class UsageError extends Error {}

/** Runs `nest-tessera keys ...`; resolves the exit code. Never prints private material unless asked. */
export async function runKeysCommand(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        alg: { type: 'string' },
        out: { type: 'string' },
        file: { type: 'string' },
        kid: { type: 'string' },
        force: { type: 'boolean' },
        'print-private': { type: 'boolean' },
        'publish-ahead': { type: 'string' },
        retain: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const [group, action] = positionals;
    if (group !== 'keys') throw new UsageError(`unknown command "${positionals.join(' ')}"`);
    const now = io.now?.() ?? Date.now() / 1000;
    const retain = seconds(values.retain, 86_400, '--retain');
    switch (action) {
      case 'generate': {
        const jwks: JwkSet = {
          keys: [generateSigningJwk(algorithm(values.alg, true), values.kid)],
        };
        if (values['print-private']) {
          io.out(JSON.stringify(jwks, null, 2));
          return 0;
        }
        if (values.out === undefined)
          throw new UsageError('generate needs --out <file> (or --print-private)');
        if (!values.force && (await exists(values.out))) {
          throw new UsageError(
            `${values.out} exists: use "keys rotate --file" to add a key, or --force`,
          );
        }
        await writeKeyFile(values.out, jwks);
        io.out(
          `wrote ${values.out}: kid ${String(jwks.keys[0].kid)} (${String(jwks.keys[0].alg)})`,
        );
        return 0;
      }
      case 'rotate': {
        const file = required(values.file, '--file');
        const before = await readKeyFile(file);
        const alg = values.alg === undefined ? newestAlg(before) : algorithm(values.alg, true);
        const publishAhead = seconds(values['publish-ahead'], 900, '--publish-ahead');
        const after = rotateKeySet(
          before,
          { alg, publishAheadSeconds: publishAhead, retainSeconds: retain },
          now,
        );
        await writeKeyFile(file, after);
        const added = after.keys.at(-1)!;
        const dropped = before.keys.length + 1 - after.keys.length;
        io.out(
          `added kid ${String(added.kid)} (${alg}), signing from ${new Date((now + publishAhead) * 1000).toISOString()}; dropped ${dropped} expired key(s)`,
        );
        return 0;
      }
      case 'public': {
        const jwks = await readKeyFile(required(values.file, '--file'));
        io.out(
          JSON.stringify(
            KeyRing.fromJwks(jwks, { retainSeconds: retain, now: () => now }).publicJwks(),
            null,
            2,
          ),
        );
        return 0;
      }
      case 'list': {
        const jwks = await readKeyFile(required(values.file, '--file'));
        for (const key of describeKeySet(jwks, retain, now)) {
          const from =
            key.activateAt > 0 ? new Date(key.activateAt * 1000).toISOString() : 'the start';
          io.out(`${key.kid}\t${key.alg}\t${key.phase}\tsigns from ${from}`);
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown keys action "${action ?? ''}"`);
    }
  } catch (error) {
    io.err(`nest-tessera: ${(error as Error).message}`);
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.err(USAGE);
      return 2;
    }
    return 1;
  }
}

function algorithm(value: string | undefined, needed: boolean): SigningAlgorithm {
  if (value === undefined && needed)
    throw new UsageError(`--alg is required: ${SIGNING_ALGORITHMS.join(', ')}`);
  if (!isSigningAlgorithm(value))
    throw new UsageError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  return value;
}

function newestAlg(jwks: JwkSet): SigningAlgorithm {
  return algorithm(String(jwks.keys.at(-1)?.alg), true);
}

function seconds(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${name} must be a whole number of seconds`);
  return n;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`${name} is required`);
  return value;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
