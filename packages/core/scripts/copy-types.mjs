#!/usr/bin/env node
// Puts the declarations tsc emitted (dist/types) next to both module trees: dist/esm (read as ESM
// types) and dist/cjs (read as CommonJS types, thanks to its package.json), then drops dist/types.
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
for (const tree of ['esm', 'cjs']) cpSync(`${dist}types`, `${dist}${tree}`, { recursive: true });
rmSync(`${dist}types`, { recursive: true, force: true });
