// e2e fixture: builds the site once (tools/site.ts: vite build, vite preview on 127.0.0.1, Debian's
// headless Chromium with WebGPU on SwiftShader) and opens pages in it.
import { mkdirSync } from 'node:fs';
import { type Browser, type ConsoleMessage, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_BIN } from '../../tools/gpu-env.mjs';
import { type Site, startSite } from '../../tools/site';

/** Opens a page (1280×900 unless `viewport` says) and collects console errors and uncaught exceptions. */
export async function open(site: Site, path: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const page = await site.browser.newPage({ viewport });
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

/** Runs `fn` with a Chromium that has no WebGPU adapter (Linux without --enable-unsafe-webgpu), closed after. */
export async function withoutWebGPU<T>(fn: (browser: Browser) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_BIN,
    args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
    headless: true,
  });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}
