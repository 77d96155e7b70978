import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The README is the package's front page: what does not fit goes to docs/. */
const README_LIMIT_BYTES = 20_000;

/**
 * Pages the documentation links to that other changes bring: a link to one of them is accepted
 * while it is missing, and checked like any other once it exists.
 */
const PAGES_ON_THEIR_WAY = new Set(['docs/throttling.md']);

function markdownFilesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return markdownFilesUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const PAGES = ['README.md', 'sample-app/README.md', ...markdownFilesUnder('docs')];

/** The text outside fenced code blocks and code spans: a link inside code is not a link. */
function prose(markdown: string): string {
  return markdown
    .replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/(`+)[\s\S]*?\1/g, '');
}

/** Targets of inline links and images, `[text](target "title")`, and of reference definitions. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const references = [
    ...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm),
  ].map((m) => m[1]);
  return [...inline, ...references];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of markdown
    .replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id);
  return anchors;
}

/** What is wrong with one relative link of `page`, or `undefined` when it resolves. */
function brokenLink(page: string, target: string): string | undefined {
  const [pathPart, fragment] = target.split('#', 2) as [string, string | undefined];
  const file =
    pathPart === '' ? page : relative(ROOT, resolve(ROOT, dirname(page), decodeURI(pathPart)));
  if (file.startsWith('..')) return `${target}: points outside the repository`;
  if (!existsSync(join(ROOT, file))) {
    return PAGES_ON_THEIR_WAY.has(file) ? undefined : `${target}: no file ${file}`;
  }
  if (fragment === undefined || fragment === '') return undefined;
  if (!file.endsWith('.md')) return `${target}: an anchor in a file that is not Markdown`;
  const anchors = anchorsOf(readFileSync(join(ROOT, file), 'utf8'));
  return anchors.has(decodeURIComponent(fragment))
    ? undefined
    : `${target}: no heading #${fragment} in ${file}`;
}

describe('documentation', () => {
  it('keeps the README under 20,000 bytes', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThan(README_LIMIT_BYTES);
  });

  it.each(PAGES)('%s: every relative link resolves to a file and heading', (page) => {
    const markdown = readFileSync(join(ROOT, page), 'utf8');
    const broken = linkTargets(markdown)
      .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target)) // https:, mailto:, …
      .map((target) => brokenLink(page, target))
      .filter((problem) => problem !== undefined);
    expect(broken).toEqual([]);
  });

  it('finds the links it checks', () => {
    // A parser that found nothing would pass every page above.
    const targets = linkTargets(
      'See [a](docs/a.md#b), `[not](code.md)`, [c][d].\n\n[d]: ../e.md\n',
    );
    expect(targets).toEqual(['docs/a.md#b', '../e.md']);
    expect(anchorsOf('# The `@RunAs` decorator: why?\n## Two\n## Two\n')).toEqual(
      new Set(['the-runas-decorator-why', 'two', 'two-1']),
    );
  });
});
