// e2e fixture: builds the site (vite build) once, serves it with vite preview on 127.0.0.1, and opens
// pages in Debian's headless Chromium (playwright-core) with WebGPU on SwiftShader.
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { build, preview, type PreviewServer } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_BIN } from '../../tools/gpu-env.mjs';

export interface Site {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startSite(): Promise<Site> {
  await build({ logLevel: 'warn' });
  const server: PreviewServer = await preview({ preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('vite preview did not report a port');
  const browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS, headless: true });
  return {
    url: `http://127.0.0.1:${address.port}`,
    browser,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
    },
  };
}

/** Opens a page and collects console errors and uncaught exceptions. */
export async function open(site: Site, path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await site.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${site.url}${path}`);
  return { page, errors };
}

/** Builds and serves the site for the calling test file; returns a getter for it. */
export function useSite(): () => Site {
  let site: Site;
  beforeAll(async () => {
    mkdirSync('test-results', { recursive: true });
    site = await startSite();
  }, 180_000);
  afterAll(async () => site?.close());
  return () => site;
}
