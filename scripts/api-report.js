// Records the public API of every entry point in api/<entry>.api.md (API Extractor), from the
// declarations `npm run build:lib` emits. `node scripts/api-report.js` fails when the surface
// differs from the recorded report (run in lint, so a change to the surface shows in review);
// `--update` rewrites the reports.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const update = process.argv.includes('--update');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// A type an entry's signatures use may be exported by another entry of the package: users name
// it from there (e.g. `Principal` from the main entry in a `nest-tessera/issuer` signature).
const exportedNames = new Set(
  Object.values(pkg.exports)
    .filter((target) => typeof target !== 'string')
    .flatMap((target) => {
      const source = readFileSync(new URL(`../${target.types}`, import.meta.url), 'utf8');
      return [...source.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) =>
        m[1].split(',').map((name) => name.trim().replace(/^type /, '')),
      );
    }),
);
// The base class TypeScript declares for a mixin (`class X extends Mixin(Base)`): not nameable.
const isMixinBase = (name) => name.endsWith('_base');

let failed = false;
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue;
  const name = subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`;
  const reportName = name.replace('/', '-');
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: `<projectFolder>/${target.types}`,
      compiler: { tsconfigFilePath: '<projectFolder>/tsconfig.lib.json' },
      apiReport: {
        enabled: true,
        reportFileName: `${reportName}.api.md`,
        reportFolder: '<projectFolder>/api/',
        reportTempFolder: '<projectFolder>/dist/api/',
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        extractorMessageReporting: {
          default: { logLevel: 'warning' },
          // One release line: everything exported is public.
          'ae-missing-release-tag': { logLevel: 'none' },
          // TSDoc gaps are reviewed in the report, not failed on.
          'ae-undocumented': { logLevel: 'none' },
          // A type a public signature uses must be exported too, or users cannot name it.
          'ae-forgotten-export': { logLevel: 'error' },
        },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: `${root}package.json`,
  });
  const result = Extractor.invoke(config, {
    localBuild: update,
    showVerboseMessages: false,
    messageCallback: (message) => {
      if (message.messageId !== 'ae-forgotten-export') return;
      const symbol = /The symbol "([^"]+)"/.exec(message.text)?.[1] ?? '';
      if (exportedNames.has(symbol) || isMixinBase(symbol)) message.logLevel = 'none';
    },
  });
  if (!result.succeeded) {
    failed = true;
    console.error(
      `${name}: ${result.errorCount} errors, ${result.warningCount} warnings` +
        (result.apiReportChanged
          ? ' (the API changed: run `npm run api:update` and review api/)'
          : ''),
    );
  }
}
process.exit(failed ? 1 : 0);
