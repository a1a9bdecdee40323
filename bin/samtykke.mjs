#!/usr/bin/env -S node --min-semi-space-size=16 --no-allocation-site-pretenuring
// The `samtykke` command: the server's own TypeScript, run through tsx. The node flags are
// SERVER_NODE_FLAGS (server/main.ts): V8 takes them only on the command line.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli.ts');
process.exitCode = await main(process.argv.slice(2));
