import { defineConfig } from 'vite';

// The UI lives under /kiosk/ both when `vouch serve` serves it and inside the Tauri window
// (frontendDist is ui/dist, the window opens kiosk/index.html), so one build serves both.
export default defineConfig({
  base: '/kiosk/',
  // pdf.js is a lazy chunk of about 500 KB, loaded only by the signature step; the limit keeps the warning for the
  // main chunk meaningful.
  build: { outDir: 'dist/kiosk', emptyOutDir: true, target: 'es2021', sourcemap: false, chunkSizeWarningLimit: 520 },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  server: { proxy: { '/vouch': 'http://127.0.0.1:8270' } },
});
