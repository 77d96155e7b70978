import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
/** Lines without their indentation: Prettier dedents an excerpt taken from inside a block. */
const dedented = (code: string) => code.replace(/^[ \t]+/gm, '');

/** The TypeScript blocks of `markdown` whose first line names the file they are taken from. */
function excerpts(markdown: string): { file: string; code: string }[] {
  return [...markdown.matchAll(/^```ts\n\/\/ (examples\/\S+)\n([\s\S]*?)^```$/gm)].map((m) => ({
    file: m[1],
    code: m[2],
  }));
}

// docs/testing.md shows code of examples/testing, whose spec runs with the tests: each excerpt
// must be in its file as it is printed, so the page never shows code that does not run.
describe('docs/testing.md', () => {
  const page = read('docs/testing.md');
  const blocks = excerpts(page);

  it('takes its snippets from examples/testing, both files', () => {
    expect(new Set(blocks.map((b) => b.file))).toEqual(
      new Set(['examples/testing/app.module.ts', 'examples/testing/orders.e2e.spec.ts']),
    );
  });

  it.each(blocks.map((block, index) => ({ index, ...block })))(
    'snippet $index is in $file as printed (but for indentation)',
    ({ file, code }) => {
      expect(dedented(read(file))).toContain(dedented(code));
    },
  );

  it('is linked from the README and docs/README.md', () => {
    expect(read('README.md')).toContain('](docs/testing.md)');
    expect(read('docs/README.md')).toContain('](testing.md)');
  });
});
