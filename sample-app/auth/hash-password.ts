// `npm run hash-password -- <password>`, or the password on stdin: prints one `password_hash`
// for a USERS_FILE entry (or a client's `client_secret_hash`).
import { hashPassword, MAX_PASSWORD_LENGTH } from './password-hash.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing line break is the end of the line typed or echoed, not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length > 1) throw new Error('give one password (quote it), or none to read stdin');
  const password = args[0] ?? (await readStdin());
  if (password === '') throw new Error('the password is empty');
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new Error(`the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`hash-password: ${(error as Error).message}\n`);
  process.exitCode = 2;
});
