import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { alias } from '../../vitest.shared.js';

// The app imports the crmkit packages from their sources (like the tests): no library build needed.
// Two pages: index.html (the board alone in the tab) and field.html (field mode: a device synced with field/server.ts).
export default defineConfig({
  plugins: [react()],
  resolve: { alias, dedupe: ['react', 'react-dom'] },
  build: { target: 'es2022', rollupOptions: { input: { main: fileURLToPath(new URL('./index.html', import.meta.url)), field: fileURLToPath(new URL('./field.html', import.meta.url)) } } },
});
