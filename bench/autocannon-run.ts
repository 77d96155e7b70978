import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/** What one autocannon run measured. */
export interface AutocannonRun {
  readonly rps: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly requests: number;
}

/**
 * Loads `url` with autocannon in a child process (so the load does not share the server's event
 * loop) for `durationS` seconds over `connections` connections, with `token` as Bearer if given.
 */
export function runAutocannon(
  url: string,
  options: { connections: number; durationS: number; token?: string },
): Promise<AutocannonRun> {
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const args = [bin, '-j', '-c', String(options.connections), '-d', String(options.durationS)];
  if (options.token !== undefined) args.push('-H', `authorization=Bearer ${options.token}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        const result = JSON.parse(out) as {
          requests: { average: number; total: number };
          latency: { p99: number };
          non2xx: number;
          errors: number;
        };
        resolve({
          rps: result.requests.average,
          p99: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
          requests: result.requests.total,
        });
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}
