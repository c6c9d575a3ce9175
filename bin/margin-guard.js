#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so there is no build step between a clone and `npx margin-guard`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
main(process.argv.slice(2));
