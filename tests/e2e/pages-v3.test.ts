// Issue 28 on the landing, word2vec, LSTM and bench pages, tried as a person would in headless Chromium:
// the main action and its progress inside the first screen at 1280×800 and 390×844, a skip link and a
// focus ring of at least 3:1, the CPU-fallback note, each state bug of the issue (LSTM seed and tooltip,
// word2vec errors and clickable neighbours, the bench's q8_0 case, Stop keeping results, a chart per
// suite), and without WebGPU a recorded example beside the advice. Screenshots at rest, running and
// done go to test-results/v3-*.png.
import { chromium, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_BIN } from '../../tools/gpu-env.mjs';
import { useSite } from './server';

const site = useSite();

/** The main action (and its progress) of each page: these must be inside the first viewport. */
const MAIN: Record<string, string[]> = {
  '/': ['#demos', 'a[href="demos/word2vec/"]', 'a[href="demos/lstm/"]'],
  '/demos/word2vec/': ['#query', '#search-form button[type=submit]', '#neighbours'],
  '/demos/lstm/': ['#prompt', '#generate', '#stop', '#progress'],
  '/bench/': ['#run', '#stop', '#progress', '#status'],
};
/** Where the skip link leads. */
const SKIP: Record<string, string> = { '/': 'demos', '/demos/word2vec/': 'query', '/demos/lstm/': 'prompt', '/bench/': 'run' };

async function openAt(path: string, width = 1280, height = 800, colorScheme: 'light' | 'dark' = 'light') {
  const page = await site().browser.newPage({ viewport: { width, height }, colorScheme });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${site().url}${path}`);
  return { page, errors };
}

/** The outline of the focused element against the first opaque background behind it (the page's canvas if none): WCAG contrast. */
function focusRing(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const parse = (c: string) => {
      const m = c.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0, 0];
      return { rgb: m.slice(0, 3), a: m.length > 3 ? m[3] : 1 };
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const style = getComputedStyle(el);
    let bg = matchMedia('(prefers-color-scheme: dark)').matches ? [18, 18, 18] : [255, 255, 255];
    for (let p: Element | null = el.parentElement; p; p = p.parentElement) {
      const b = parse(getComputedStyle(p).backgroundColor);
      if (b.a >= 0.9) {
        bg = b.rgb;
        break;
      }
    }
    const ring = parse(style.outlineColor).rgb;
    const [hi, lo] = [lum(ring), lum(bg)].sort((a, b) => b - a);
    return {
      id: el.id || el.tagName,
      style: style.outlineStyle,
      width: Number.parseFloat(style.outlineWidth),
      contrast: (hi + 0.05) / (lo + 0.05),
    };
  });
}

/** Text below WCAG AA against the first opaque background behind it (4.5:1; 3:1 for large text). Skips the
 * settings panel (lil-gui's own colours), disabled controls and hidden elements. */
function lowContrastText(page: Page) {
  return page.evaluate(() => {
    const parse = (c: string) => {
      const m = c.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0, 0];
      return { rgb: m.slice(0, 3), a: m.length > 3 ? m[3] : 1 };
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const page = matchMedia('(prefers-color-scheme: dark)').matches ? [18, 18, 18] : [255, 255, 255];
    const bad: string[] = [];
    for (const el of document.body.querySelectorAll<HTMLElement>('*')) {
      if (el.closest('.lil-gui, [disabled], script, style, canvas') || el.matches(':disabled')) continue;
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim());
      const r = el.getBoundingClientRect();
      if (!own || !r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
      const st = getComputedStyle(el);
      let bg = page;
      for (let p: Element | null = el; p; p = p.parentElement) {
        const b = parse(getComputedStyle(p).backgroundColor);
        if (b.a >= 0.9) {
          bg = b.rgb;
          break;
        }
      }
      const [hi, lo] = [lum(parse(st.color).rgb), lum(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = Number.parseFloat(st.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5))
        bad.push(
          `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className} ${ratio.toFixed(2)}: ${el.textContent!.trim().slice(0, 40)}`,
        );
    }
    return bad;
  });
}

describe('pages, third edition', () => {
  it('the main action is inside the first screen at 1280×800 and 390×844; skip link and focus ring (≥ 3:1) work', async () => {
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ]) {
      for (const path of Object.keys(MAIN)) {
        const { page, errors } = await openAt(path, width, height);
        await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
        for (const q of MAIN[path]) {
          const box = (await page.locator(q).first().boundingBox())!;
          expect(box, `${path} ${q} at ${width}`).not.toBeNull();
          expect(box.y + Math.min(box.height, 40), `${path}: ${q} below the first screen at ${width}×${height}`).toBeLessThanOrEqual(
            height,
          );
          expect(box.x + box.width, `${path}: ${q} off the side at ${width}`).toBeLessThanOrEqual(width + 1);
        }
        expect(await lowContrastText(page), `${path} at ${width}: text below AA`).toEqual([]);
        // The first Tab reaches the skip link, which shows and carries the ring; Enter takes focus to the main action.
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.className), path).toBe('skip-link');
        expect((await page.locator('.skip-link').boundingBox())!.y, path).toBeGreaterThanOrEqual(0);
        let ring = await focusRing(page);
        expect(ring.style, path).toBe('solid');
        expect(ring.contrast, `${path}: skip link ring`).toBeGreaterThanOrEqual(3);
        await page.keyboard.press('Enter');
        await page.waitForFunction((id) => document.activeElement?.id === id, SKIP[path]);
        ring = await focusRing(page);
        expect(ring.width, `${path}: ${ring.id}`).toBeGreaterThanOrEqual(2);
        expect(ring.contrast, `${path}: ${ring.id} ring at ${width}`).toBeGreaterThanOrEqual(3);
        if (width === 390)
          await page.screenshot({ path: `test-results/v3-narrow${path.replace(/\//g, '-').replace(/-$/, '') || '-landing'}.png` });
        expect(errors, path).toEqual([]);
        await page.close();
      }
    }
    // Dark scheme, and inside the dark settings panel: the ring still stands out.
    const { page } = await openAt('/demos/lstm/', 1280, 800, 'dark');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    await page.locator('#prompt').focus();
    expect((await focusRing(page)).contrast, 'dark page').toBeGreaterThanOrEqual(3);
    expect(await lowContrastText(page), 'dark LSTM page: text below AA').toEqual([]);
    await page.locator('.lil-controller', { hasText: 'temperature' }).locator('input').first().focus();
    expect((await focusRing(page)).contrast, 'settings panel').toBeGreaterThanOrEqual(3);
    await page.close();
  });

  it('on a CPU fallback adapter every page says so and that everything will be slow', async () => {
    for (const path of Object.keys(MAIN)) {
      const { page } = await openAt(path);
      await page.waitForSelector('#cpu-note', { timeout: 60_000 });
      const note = (await page.textContent('#cpu-note')) ?? '';
      expect(note, path).toMatch(/swiftshader/i);
      expect(note, path).toMatch(/CPU fallback/);
      expect(note, path).toMatch(/slow/);
      await page.close();
    }
  });

  it('landing: the demos come first, in the course order; the adapter table follows; limit values do not wrap on a phone', async () => {
    const { page, errors } = await openAt('/', 390, 844);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    expect(await page.$$eval('#demos > li > a', (as) => as.map((a) => a.getAttribute('href')))).toEqual([
      'demos/word2vec/',
      'demos/lstm/',
      'demos/bert/',
      'demos/gpt/',
      'bench/',
    ]);
    expect(await page.textContent('#demos')).toMatch(/Small language models: GPT and Llama.*tiny Llama.*character GPT-2/s);
    const order = await page.evaluate(
      () =>
        document.getElementById('demos')!.compareDocumentPosition(document.getElementById('limits')!) & Node.DOCUMENT_POSITION_FOLLOWING,
    );
    expect(order).toBeTruthy();
    // Each value on one line ("1.0 GiB", "256 / 256"): one line box per cell.
    const lines = await page.$$eval('#limits td.num', (tds) =>
      tds.map((td) => {
        const r = document.createRange();
        r.selectNodeContents(td);
        return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size;
      }),
    );
    expect(lines.length).toBe(7);
    expect(
      lines.every((n) => n === 1),
      `lines per value: ${lines}`,
    ).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: 'test-results/v3-landing-done.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('word2vec: an error shows by its form and keeps the list; a neighbour is a link to its own neighbours', async () => {
    const { page, errors } = await openAt('/demos/word2vec/');
    await page.screenshot({ path: 'test-results/v3-word2vec-rest.png' });
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    expect(await page.locator('#neighbours li').count()).toBe(10);
    await page.fill('#query', 'xyzzy');
    await page.click('#search-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('search-error')?.textContent?.includes("'xyzzy' is not in the vocabulary"));
    // Before: the message line at the top said it, and the list was emptied.
    expect(await page.locator('#neighbours li').count()).toBe(10);
    const form = (await page.locator('#search-form').boundingBox())!;
    const error = (await page.locator('#search-error').boundingBox())!;
    expect(error.y - (form.y + form.height)).toBeLessThan(40);
    expect(error.y).toBeGreaterThan(form.y);
    expect(await page.getAttribute('#message', 'class')).not.toBe('error');
    // Analogy errors sit by the analogy form.
    await page.fill('#a', '');
    await page.click('#analogy-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('analogy-error')?.textContent?.startsWith('Fill in all three words'));
    // Click a neighbour: it becomes the query, its own neighbours replace the list, the error clears.
    const second = page.locator('#neighbours button.word').nth(1);
    const word = (await second.textContent())!;
    await second.click();
    await page.waitForFunction((w) => document.getElementById('neighbours')?.dataset.query === w, word, { timeout: 30_000 });
    expect(await page.inputValue('#query')).toBe(word);
    expect(await page.textContent('#search-error')).toBe('');
    expect(await page.locator('#neighbours li').count()).toBe(10);
    // By keyboard too: Enter on a focused neighbour.
    await page.locator('#neighbours button.word').first().focus();
    const first = (await page.locator('#neighbours button.word').first().textContent())!;
    await page.keyboard.press('Enter');
    await page.waitForFunction((w) => document.getElementById('neighbours')?.dataset.query === w, first, { timeout: 30_000 });
    await page.screenshot({ path: 'test-results/v3-word2vec-done.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('LSTM: each Generate uses a new seed, the next characters and one unit’s gates show, the tooltip goes on scroll', async () => {
    const { page, errors } = await openAt('/demos/lstm/?chars=30');
    await page.screenshot({ path: 'test-results/v3-lstm-rest.png' });
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    const texts: string[] = [];
    const seeds: string[] = [];
    for (let run = 0; run < 2; run++) {
      await page.evaluate(() => delete document.body.dataset.state);
      await page.click('#generate');
      if (run === 0) {
        await page.waitForFunction(() => Number((document.getElementById('progress') as HTMLProgressElement).value) >= 3, undefined, {
          timeout: 120_000,
        });
        expect(await page.textContent('#run-progress')).toMatch(/^\d+ \/ 30$/);
        await page.screenshot({ path: 'test-results/v3-lstm-running.png' });
      }
      await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
      texts.push((await page.textContent('#output')) ?? '');
      seeds.push((await page.getAttribute('#output', 'data-seed')) ?? '');
    }
    // Before the fix the seed stayed 1 and both runs wrote the same text.
    expect(seeds[0]).not.toBe(seeds[1]);
    expect(texts[0]).not.toBe(texts[1]);
    expect(await page.textContent('#message')).toContain(`seed ${seeds[1]}`);
    // The next characters: five, most likely first, and temperature reshapes them.
    expect(await page.locator('#next li').count()).toBe(5);
    const probs = async () => ((await page.getAttribute('#next', 'data-p')) ?? '').split(' ').map(Number);
    const warm = await probs();
    expect([...warm].sort((a, b) => b - a)).toEqual(warm);
    expect(warm.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1.0001);
    const temperature = page.locator('.lil-controller', { hasText: 'temperature' }).locator('input').first();
    await temperature.fill('0.2');
    await temperature.press('Enter');
    await page.waitForFunction((p0) => Number(document.getElementById('next')?.dataset.p?.split(' ')[0]) > p0, warm[0]);
    // The gates of the picked unit, recomputed in float64, give back the GPU's cell.
    await page.waitForSelector('#gates[data-drawn]');
    expect(await page.getAttribute('#gates', 'data-cols')).toBe('30');
    expect(Number(await page.getAttribute('#gates', 'data-check'))).toBeLessThan(1e-4);
    await page.locator('#heatmap').scrollIntoViewIfNeeded();
    const heat = (await page.locator('#heatmap').boundingBox())!;
    await page.mouse.click(heat.x + 34 + 9 * 2 + 4, heat.y + 16 + 11 * 5 + 5); // unit row 5
    await page.waitForFunction(() => document.getElementById('gates')?.dataset.unit === '5');
    expect(await page.textContent('#gates-caption')).toMatch(/^Unit 5: mean input gate \d\.\d\d, forget gate/);
    await page.locator('#gates').scrollIntoViewIfNeeded();
    const gates = (await page.locator('#gates').boundingBox())!;
    await page.mouse.move(gates.x + 34 + 9 * 4 + 4, gates.y + 40);
    expect(await page.textContent('#tooltip')).toMatch(
      /^character 5 ".*" · unit 5: i \d\.\d\d f \d\.\d\d g -?\d\.\d\d o \d\.\d\d c -?\d+\.\d{3}$/,
    );
    // The heatmap tooltip: hover a cell, then the page scrolls under the still pointer (keys, a script, a
    // trackpad: no pointer move); a value for the cell that was under the pointer before must not stay.
    await page.locator('#heatmap').scrollIntoViewIfNeeded();
    const box = (await page.locator('#heatmap').boundingBox())!;
    await page.mouse.move(box.x + 34 + 9 * 5 + 4, box.y + 16 + 11 * 3 + 5);
    const before = await page.textContent('#tooltip');
    expect(before).toMatch(/^character 6 ".*" · unit 3: /);
    expect(await page.isVisible('#tooltip')).toBe(true);
    const scrolled = await page.evaluate(() => {
      const y = window.scrollY;
      window.scrollBy(0, -33); // three unit rows: the pointer is now over unit row 0
      return y - window.scrollY;
    });
    expect(scrolled).toBe(33);
    await page.waitForTimeout(300);
    const after = await page.evaluate(() => {
      const t = document.getElementById('tooltip')!;
      return getComputedStyle(t).display === 'none' ? null : t.textContent;
    });
    expect(after === null || !after.startsWith('character 6 "') || !after.includes('unit 3:'), `stale tooltip: ${after}`).toBe(true);
    // A fixed seed repeats a run exactly (at the same temperature).
    await page.locator('.lil-controller', { hasText: 'new seed each run' }).locator('input').uncheck();
    const repeats: string[] = [];
    for (let run = 0; run < 2; run++) {
      await page.evaluate(() => delete document.body.dataset.state);
      await page.click('#generate');
      await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
      expect(await page.getAttribute('#output', 'data-seed')).toBe(seeds[1]);
      repeats.push((await page.textContent('#output')) ?? '');
    }
    expect(repeats[1]).toBe(repeats[0]);
    await page.screenshot({ path: 'test-results/v3-lstm-done.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('bench: progress beside Run, the q8_0 case runs, a chart per suite with ours highlighted, Stop keeps the last full run', async () => {
    const { page, errors } = await openAt('/bench/?quick=1&reps=1&suites=kernels,matmul&sizes=T=32,256x256x256');
    await page.waitForSelector('#estimate[data-seconds]', { timeout: 120_000 });
    await page.screenshot({ path: 'test-results/v3-bench-rest.png' });
    await page.click('#run');
    await page.waitForFunction(() => Number((document.getElementById('progress') as HTMLProgressElement).value) >= 1, undefined, {
      timeout: 120_000,
    });
    // Progress and status sit beside Run: in the first screen, right under it.
    const run = (await page.locator('#run').boundingBox())!;
    const status = (await page.locator('#status').boundingBox())!;
    expect(status.y - run.y).toBeLessThan(100);
    expect(await page.textContent('#status')).toMatch(/^\d+\/\d+ /);
    await page.screenshot({ path: 'test-results/v3-bench-running.png' });
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 600_000 });
    const done = (await page.textContent('#status')) ?? '';
    expect(done).toMatch(/^Done/);
    expect(done).not.toMatch(/Skipped/); // before: "Skipped: quantize weights q8_0 T=32 ours: quantize_scales: shape [3072, 0]…"
    expect(await page.locator('#results tbody tr', { has: page.locator('td:text-is("quantize weights q8_0")') }).count()).toBe(1);
    // One chart per suite; the matmul one compares ours with its baselines, ours highlighted.
    expect(await page.$$eval('#charts figure', (fs) => fs.map((f) => (f as HTMLElement).dataset.suite))).toEqual(['matmul', 'kernels']);
    const matmul = page.locator('#charts figure[data-suite="matmul"]');
    expect((await matmul.getAttribute('data-variants'))!.split('|').length).toBeGreaterThanOrEqual(2);
    expect(await matmul.getAttribute('data-highlight')).toBe('ours');
    const rows = await page.locator('#results tbody tr').count();
    await page.screenshot({ path: 'test-results/v3-bench-done.png', fullPage: true });
    // A second run stopped early: the full results stay (before: 26 rows became 2).
    await page.click('#run');
    await page.waitForFunction(() => Number((document.getElementById('progress') as HTMLProgressElement).value) >= 1, undefined, {
      timeout: 120_000,
    });
    await page.click('#stop');
    await page.waitForSelector('body[data-state="stopped"]', { timeout: 120_000 });
    expect(await page.textContent('#status')).toMatch(/^Stopped: \d+ cases\. The charts and table still show the previous full run/);
    expect(await page.locator('#results tbody tr').count()).toBe(rows);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('run'); // focus stays with the action
    expect(errors).toEqual([]);
    await page.close();
  });

  it('without WebGPU each page shows a recorded example, labelled, beside the advice; the bench page points the right way', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_BIN,
      args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
      headless: true,
    });
    try {
      for (const path of Object.keys(MAIN)) {
        const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${site().url}${path}`);
        await page.waitForSelector('body[data-ready="no-webgpu"]', { timeout: 60_000 }).catch((e) => {
          throw new Error(`${path}: ${(e as Error).message.split('\n')[0]}; page errors: ${errors.join(' | ') || 'none'}`);
        });
        await page.waitForSelector('figure.recorded[data-drawn]', { timeout: 30_000 });
        expect(await page.textContent('figure.recorded figcaption'), path).toMatch(/^Recorded example, not run here: /);
        // Beside the advice: the figure follows the advice directly.
        expect(
          await page.evaluate(() => {
            const advice = document.querySelector('[role="alert"]');
            return advice?.nextElementSibling?.matches('figure.recorded') ?? false;
          }),
          path,
        ).toBe(true);
        expect(await lowContrastText(page), `${path} without WebGPU: text below AA`).toEqual([]);
        await page.screenshot({
          path: `test-results/v3-no-webgpu${path.replace(/\//g, '-').replace(/-$/, '') || '-landing'}.png`,
          fullPage: true,
        });
        if (path === '/bench/') {
          const adapter = (await page.textContent('#adapter')) ?? '';
          expect(adapter).not.toMatch(/see above/);
          expect(adapter).toMatch(/follow below/);
          expect(await page.locator('#recorded-charts figure').count()).toBeGreaterThan(3);
        }
        expect(errors, path).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
