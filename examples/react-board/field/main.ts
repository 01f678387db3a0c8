/**
 * `pnpm --filter @crmkit/example-react-board field`: after `vite build`, serves the field board and its sync
 * server on http://127.0.0.1:5180 (PORT to change it), keeping the office data in `data/field.db` (FIELD_DB
 * to change it; delete the file to start over). Ctrl-C stops it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFieldServer } from './server.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const filename = process.env.FIELD_DB ?? here('../data/field.db');
mkdirSync(dirname(filename), { recursive: true });
const server = await startFieldServer({ dist: here('../dist'), filename, port: Number(process.env.PORT ?? 5180) });
console.log(`crmkit field board: ${server.url}  (office data: ${filename})`);
console.log('Cut the network in the browser (DevTools → Network → Offline), move cards, reload, reconnect: they sync.');
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
