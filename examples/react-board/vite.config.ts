import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { alias } from '../../vitest.shared.js';
import { fieldShellWorker } from './field/shell-worker-plugin.js';

// The app imports the crmkit packages from their sources (like the tests): no library build needed.
// Two pages: index.html (the board alone in the tab) and field.html (field mode: a device synced with field/server.ts).
// Field mode's service worker keeps field.html and its assets for offline opens; /sync is never cached.
export default defineConfig({
  plugins: [react(), fieldShellWorker({ page: 'field.html', network: ['/sync'] })],
  resolve: { alias, dedupe: ['react', 'react-dom'] },
  build: { target: 'es2022', rollupOptions: { input: { main: fileURLToPath(new URL('./index.html', import.meta.url)), field: fileURLToPath(new URL('./field.html', import.meta.url)) } } },
});
