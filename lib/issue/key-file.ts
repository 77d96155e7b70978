import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
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

/**
 * Writes a key file whole or not at all (a reader never sees half a file), readable by its owner
 * only. The temporary file beside it has an unpredictable name and is created exclusively
 * (`O_CREAT | O_EXCL`, which follows no symlink): a link planted in the directory, at any name,
 * never makes it write private keys elsewhere; the rename replaces a link at `path` itself
 * rather than writing through it.
 */
export async function writeKeyFile(path: string, jwks: JwkSet): Promise<void> {
  const temporary = `${path}.${randomBytes(16).toString('hex')}.tmp`;
  const file = await open(temporary, 'wx', 0o600);
  try {
    try {
      // The mode given to open() is masked by the umask; this one is not.
      await file.chmod(0o600);
      await file.writeFile(`${JSON.stringify(jwks, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
