import { defineConfig } from 'tsup';

// Two entries: the device (`.`) and the server (`./server`); `src/protocol` is bundled into each.
export default defineConfig({
  entry: { index: 'src/index.ts', server: 'src/server/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: [/^@crmkit\/core/],
});
