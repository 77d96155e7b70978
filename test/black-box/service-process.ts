import { spawn, type ChildProcess } from 'node:child_process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A spawned service: its URL, and everything it printed. */
export class Service {
  output = '';
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    readonly url: string,
    script: string,
    env: Record<string, string>,
    cwd: string,
  ) {
    this.child = spawn(process.execPath, [script], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** Resolves once `GET /health` answers 200. */
  async ready(): Promise<void> {
    for (let attempt = 0; attempt < 150; attempt++) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited:\n${this.output}`);
      const ok = await fetch(`${this.url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`${this.name}: no /health after 15 s:\n${this.output}`);
  }

  /** The exit code once it has exited on its own; `null` while it runs or after a signal. */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** The JSON log lines printed so far. */
  logLines(): Record<string, unknown>[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** SIGTERM; resolves with the exit code and how long the shutdown took. */
  async terminate(): Promise<{ code: number | null; ms: number }> {
    const started = performance.now();
    const code = new Promise<number | null>((resolve) =>
      this.child.once('exit', (exitCode) => resolve(exitCode)),
    );
    this.child.kill('SIGTERM');
    return { code: await code, ms: performance.now() - started };
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
