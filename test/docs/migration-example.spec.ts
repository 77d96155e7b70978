import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// docs/migration-from-passport.md quotes examples/migration/ (which the black-box spec runs): each
// code block after a `<!-- examples/… -->` line must be that file, as it is.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGE = 'docs/migration-from-passport.md';
const QUOTED = /^<!-- (examples\/[\w/.-]+) -->\n+```ts\n([\s\S]*?)^```$/gm;

describe(PAGE, () => {
  const page = readFileSync(join(ROOT, PAGE), 'utf8');
  const quotes = [...page.matchAll(QUOTED)].map(([, path, code]) => ({ path, code }));

  it('quotes both apps of the side by side', () => {
    expect(quotes.map(({ path }) => path)).toEqual([
      'examples/migration/before.ts',
      'examples/migration/after.ts',
    ]);
  });

  it.each(quotes)('quotes $path as it is', ({ path, code }) => {
    expect(code).toBe(readFileSync(join(ROOT, path), 'utf8'));
  });
});
