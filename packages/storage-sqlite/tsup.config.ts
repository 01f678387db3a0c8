import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', pglite: 'src/pglite.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
