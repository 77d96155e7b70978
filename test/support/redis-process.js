// Plain JavaScript: the Jest global setup loads this file without a transform.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, Socket } from 'node:net';

/**
 * Whether a Redis server answers PING at host:port.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
export function redisAnswers(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

/** @returns {Promise<number>} a port free on loopback right now */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(address.port));
    });
  });
}

export function hasRedisServerBinary() {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts a redis-server that keeps nothing on disk on a loopback port; resolves once it answers.
 * @param {number} port
 * @returns {Promise<import('node:child_process').ChildProcess>}
 */
export async function startRedisProcess(port) {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 5000;
  while (!(await redisAnswers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}

/**
 * Kills a redis-server as a crash would, and waits for it to be gone.
 * @param {import('node:child_process').ChildProcess | undefined} child
 */
export async function killRedisProcess(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
