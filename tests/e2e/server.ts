// e2e fixture: builds the site once (tools/site.ts: vite build, vite preview on 127.0.0.1, Debian's
// headless Chromium with WebGPU on SwiftShader) and opens pages in it.
import { mkdirSync } from 'node:fs';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type Site, startSite } from '../../tools/site';

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
