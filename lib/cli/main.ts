#!/usr/bin/env node
import { runKeysCommand } from './keys-command.js';

process.exitCode = await runKeysCommand(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
