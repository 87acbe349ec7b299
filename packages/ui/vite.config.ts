import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

// The server serves dist/ under a strict CSP (default-src 'self'): no inline scripts or styles,
// so the module preload polyfill (an inline-free import) is kept and nothing is inlined as data.
export default defineConfig({
  plugins: [react()],
  // The workspace packages (the engine, the nodes' browser-safe specs) are bundled from their
  // sources, so the app builds without building them first.
  resolve: { conditions: ['@vidgenie/source', ...defaultClientConditions] },
  build: { outDir: 'dist', assetsInlineLimit: 0, sourcemap: false, target: 'es2022' },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
