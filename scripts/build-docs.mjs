#!/usr/bin/env node
// Builds the API reference with typedoc into docs/api: `pnpm run docs`.
// (Plain `pnpm docs` is a pnpm built-in that forwards to `npm docs`, which opens a web page instead.)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const result = spawnSync('npx', ['--no-install', 'typedoc'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
