/**
 * The web app's build (`npm run build -w web`, into dist/, which the gateway serves at `/`) and
 * dev server (`npm run dev -w web`, hot reload on :5173, /graphql and /dev proxied to the
 * gateway of `npm start`, or GATEWAY_URL).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/graphql': { target: gateway, ws: true, changeOrigin: true },
      '/dev': { target: gateway, changeOrigin: true },
    },
  },
});
