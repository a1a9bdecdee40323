#!/usr/bin/env node
// The `samtykke` command: the server's own TypeScript, run through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli.ts');
process.exitCode = await main(process.argv.slice(2));
