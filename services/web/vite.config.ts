import { defineConfig } from 'vite';

// Built into dist/ and served by api-gateway at `/`; the API is same-origin, so no proxy config
// is needed in production. `npm run dev -w @wacrm/web` proxies /api to a running gateway.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
