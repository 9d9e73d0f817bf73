#!/usr/bin/env node
// Thin entry point: the commands live with their concerns (native/, feed/, workers/, bench/,
// scenarios/) and are compiled to dist/ by `npm install` / `npm run build`.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/bin/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('mdfan: not built yet (dist/ is missing): run `npm install` or `npm run build` first');
  process.exit(2);
}
const { main } = await import(cli.href);
await main(process.argv.slice(2));
