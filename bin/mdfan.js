#!/usr/bin/env node
// Thin entry point: the command table is bin/cli.ts; each command lives with its domain (feed/,
// workers/, bench/, scenarios/), all compiled to dist/ by `npm install` / `npm run build`.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/bin/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('mdfan: not built yet (dist/ is missing): run `npm install` or `npm run build` first');
  process.exit(2);
}
const { main } = await import(cli.href);
await main(process.argv.slice(2));
