import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: ['react', '@crmkit/core'],
  // Hooks are client code: React Server Components frameworks must not run them on the server.
  banner: { js: "'use client';" },
});
