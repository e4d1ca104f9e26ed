import { defineConfig } from 'vite';

// The UI lives under /kiosk/ both when `vouch serve` serves it and inside the Tauri window
// (frontendDist is ui/dist, the window opens kiosk/index.html), so one build serves both.
export default defineConfig({
  base: '/kiosk/',
  build: { outDir: 'dist/kiosk', emptyOutDir: true, target: 'es2021', sourcemap: false },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  server: { proxy: { '/vouch': 'http://127.0.0.1:8270' } },
});
