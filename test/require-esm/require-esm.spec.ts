import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { jestLoadsRequireEsm, specsNeedingRequireEsm } from '../setup/require-esm.js';

// Which specs the run leaves to Jest on Node 24: those that load @nestjs/throttler at run time.

describe('the specs that need Jest to require ES modules', () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-require-esm-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  write('lib/guard.ts', "import { ThrottlerGuard } from '@nestjs/throttler';\n");
  write('lib/entry.ts', "export { Guard } from './guard.js';\n");
  write('lib/storage.ts', "import type { ThrottlerStorage } from '@nestjs/throttler';\n");
  write('lib/types-only.ts', "import type { Guard } from './guard.js';\n");
  write(
    'sample-app/app.ts',
    "import {\n  Throttle,\n  type ThrottlerStorage,\n} from '@nestjs/throttler';\n",
  );
  write('test/direct.spec.ts', "import { SkipThrottle } from '@nestjs/throttler';\n");
  write('test/through-entry.spec.ts', "import { Guard } from '../lib/entry.js';\n");
  write('test/dynamic.spec.ts', "const m = await import('../sample-app/app.js');\n");
  write('test/storage.spec.ts', "import { Storage } from '../lib/storage.js';\n");
  write('test/types.spec.ts', "import { T } from '../lib/types-only.js';\n");
  write(
    'test/template.spec.ts',
    "const app = `\nimport { Throttle } from '@nestjs/throttler';\n`;\n",
  );
  write('lib/index.ts', "export { Storage } from './storage.js';\n");
  write('lib/throttler.ts', "export { Guard } from './guard.js';\n");
  write('test/by-name.spec.ts', "import { Guard } from 'nest-tessera/throttler';\n");
  write('test/main-by-name.spec.ts', "import { Storage } from 'nest-tessera';\n");
  write('lib/cycle-a.ts', "import './cycle-b.js';\n");
  write('lib/cycle-b.ts', "import './cycle-a.js';\n");
  write('test/cycle.spec.ts', "import '../lib/cycle-a.js';\n");

  it('finds those that load it, themselves or through what they import (the package by its name included), and no others', () => {
    expect(specsNeedingRequireEsm(root).map((spec) => relative(root, spec))).toEqual(
      ['by-name.spec.ts', 'direct.spec.ts', 'dynamic.spec.ts', 'through-entry.spec.ts'].map((f) =>
        join('test', f),
      ),
    );
  });

  it('knows from which Node on Jest can require ES modules', () => {
    const loads = (versions: string[]) => versions.map((v) => jestLoadsRequireEsm(v));
    expect(loads(['20.19.0', '22.20.0', '24.8.1'])).toEqual([false, false, false]);
    expect(loads(['24.9.0', '24.22.3', '26.0.0'])).toEqual([true, true, true]);
  });
});
