#!/usr/bin/env -S node --min-semi-space-size=16
// The `samtykke` command: the server's own TypeScript, run through tsx. The node flag is
// SERVER_NODE_FLAGS (server/main.ts): V8 takes it only on the command line.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli.ts');
process.exitCode = await main(process.argv.slice(2));
