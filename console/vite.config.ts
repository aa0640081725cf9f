// The web console's build (`npm run console:build`): React with esbuild's automatic JSX (no
// plugin), output in console/dist (git-ignored), served by the local runtime at `/`.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, modulePreload: { polyfill: false } },
  logLevel: 'warn',
});
