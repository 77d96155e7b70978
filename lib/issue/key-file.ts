import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { AuthConfigError } from '../errors/auth-errors.js';
import type { JwkSet } from '../keys/jwk.js';

/** Reads a JWKS file (of private keys, for the issuer); `AuthConfigError` says what is wrong. */
export async function readKeyFile(path: string): Promise<JwkSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AuthConfigError(`signing keys: cannot read ${path}: ${(error as Error).message}`);
  }
  let jwks: JwkSet;
  try {
    jwks = JSON.parse(text) as JwkSet;
  } catch {
    // Not the parser's message: it quotes the text around the fault, private key material.
    throw new AuthConfigError(`signing keys: ${path} is not valid JSON`);
  }
  if (!Array.isArray(jwks?.keys))
    throw new AuthConfigError(`signing keys: ${path} is not a JWKS document`);
  return jwks;
}

/** Writes a key file whole or not at all (a reader never sees half a file), readable by its owner only. */
export async function writeKeyFile(path: string, jwks: JwkSet): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
