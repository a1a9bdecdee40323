#!/usr/bin/env node
// What `npm test` runs.
//
//   node scripts/test.mjs            type check, server tests (node:test + tsx), widget tests (Chromium),
//                                    then end-to-end tests (the real server and the demo page in Chromium)
//   node scripts/test.mjs types      tsc --noEmit only
//   node scripts/test.mjs server     server tests only; further arguments go to `node --test`
//   node scripts/test.mjs widget     widget tests only; further arguments go to web-test-runner
//   node scripts/test.mjs e2e        end-to-end tests only; further arguments go to `node --test`
//
// Every part runs even when an earlier one fails; the exit code is non-zero if any failed.
// The widget and e2e parts need Chrome or Chromium: CHROME_PATH, else the usual Debian paths. When
// none is found and we are root on a machine with apt-get, Debian's chromium is installed.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROME_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const INSTALL_HINT = 'Install Chromium (Debian: apt-get install chromium) or set CHROME_PATH';

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

function findChrome() {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    console.error(`CHROME_PATH=${fromEnv} is not an executable file. ${INSTALL_HINT}`);
    process.exit(1);
  }
  return CHROME_CANDIDATES.find(isExecutable);
}

/** Runs a command with inherited stdio; true when it exited with status 0. */
function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) {
    console.error(`Could not run ${command}: ${result.error.message}`);
    return false;
  }
  if (result.signal) console.error(`${path.basename(command)} was killed by ${result.signal}`);
  return result.status === 0;
}

function ensureChrome() {
  const found = findChrome();
  if (found) return found;
  const aptGet = findOnPath('apt-get');
  if (process.getuid?.() !== 0 || !aptGet) {
    console.error(INSTALL_HINT);
    process.exit(1);
  }
  console.log('No Chrome/Chromium found: installing Debian\'s chromium (apt-get update && apt-get install -y chromium)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['-q', 'update'], ['-q', 'install', '-y', 'chromium']]) {
    // apt's progress output is long; keep it and show it only when a step fails.
    const result = spawnSync(aptGet, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) {
      process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
      console.error(`apt-get ${args.join(' ')} failed${result.error ? `: ${result.error.message}` : ''}. ${INSTALL_HINT}`);
      process.exit(1);
    }
  }
  const installed = findChrome();
  if (!installed) {
    console.error(`chromium was installed but not found at ${CHROME_CANDIDATES.join(', ')}. ${INSTALL_HINT}`);
    process.exit(1);
  }
  return installed;
}

/** Files ending in .test.ts under dir (relative to the repository root), sorted. */
function testFiles(dir) {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

/** @web/test-runner's CLI script (its package.json is not exported, so walk up from its main). */
function webTestRunnerBin() {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@web/test-runner'));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return path.join(dir, pkg.bin['web-test-runner']);
}

function runServerTests(extraArgs) {
  const files = testFiles('test/server');
  if (files.length === 0) {
    console.log('Server tests: no test/server/**/*.test.ts files yet, skipping.');
    return true;
  }
  console.log(`Server tests: ${files.length} file(s)`);
  // Node 20's `--test` does not expand globs, so the files are listed explicitly.
  return run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...extraArgs, ...files]);
}

function runWidgetTests(extraArgs) {
  if (testFiles('test/widget').length === 0) {
    console.log('Widget tests: no test/widget/**/*.test.ts files yet, skipping.');
    return true;
  }
  const chrome = ensureChrome();
  console.log(`Widget tests: web-test-runner in ${chrome}`);
  // tsx lets web-test-runner.config.mjs import the real server (TypeScript) to serve /v1/*.
  return run(process.execPath, ['--import', 'tsx', webTestRunnerBin(), ...extraArgs], { ...process.env, CHROME_PATH: chrome });
}

function runE2eTests(extraArgs) {
  const files = testFiles('test/e2e');
  if (files.length === 0) {
    console.log('End-to-end tests: no test/e2e/**/*.test.ts files yet, skipping.');
    return true;
  }
  const chrome = ensureChrome();
  console.log(`End-to-end tests: ${files.length} file(s), the real server and the demo page in ${chrome}`);
  // One file at a time: each starts a server and a browser of its own.
  return run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...extraArgs, ...files], { ...process.env, CHROME_PATH: chrome });
}

function runTypecheck() {
  console.log('Type check: tsc --noEmit');
  return run(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '--noEmit', '-p', root]);
}

const [mode, ...rest] = process.argv.slice(2);
let ok;
switch (mode) {
  case undefined: {
    const results = { types: runTypecheck(), server: runServerTests([]), widget: runWidgetTests([]), 'end-to-end': runE2eTests([]) };
    const failed = Object.keys(results).filter((part) => !results[part]);
    ok = failed.length === 0;
    if (!ok) console.error(`Failed: ${failed.join(', ')}`);
    break;
  }
  case 'server':
    ok = runServerTests(rest);
    break;
  case 'widget':
    ok = runWidgetTests(rest);
    break;
  case 'e2e':
    ok = runE2eTests(rest);
    break;
  case 'types':
    ok = runTypecheck();
    break;
  default:
    console.error(`Unknown argument ${JSON.stringify(mode)}. Usage: node scripts/test.mjs [types|server|widget|e2e] [args...]`);
    process.exit(2);
}
process.exit(ok ? 0 : 1);
