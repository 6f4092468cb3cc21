// Vite builds the app into dist/, which Flask serves (service_hub/frontend_host.py).
// `npm run dev` proxies the API and Socket.IO to a `make run` server on :5000.
import vue from "@vitejs/plugin-vue";
import { fileURLToPath, URL } from "node:url";
import { defineConfig } from "vitest/config";

const backend = process.env.SERVICE_HUB_BACKEND ?? "http://127.0.0.1:5000";

export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    // The first screen (login + inbox) must stay small: heavy screens are lazy routes, and
    // echarts is only pulled in by the supervisor dashboard's chunk.
    chunkSizeWarningLimit: 700,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": backend,
      "/socket.io": { target: backend, ws: true },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts"],
  },
});
