import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { alias } from '../../vitest.shared.js';

// The app imports the crmkit packages from their sources (like the tests): no library build needed.
export default defineConfig({
  plugins: [react()],
  resolve: { alias, dedupe: ['react', 'react-dom'] },
  build: { target: 'es2022' },
});
