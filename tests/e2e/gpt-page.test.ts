// The "Small language models" page as a visitor meets it (issue 28): the prompt, Generate and Stop on
// the first screen at 1280×800 and 390×844, a skip link and a visible focus ring, the first run saying
// that it compiles kernels, stats honest about Stop, the cap and wall against GPU time, the state bugs
// (chat follows the model, the input and history clear, stale maps marked), a labelled attention map
// that fits and zooms beside every head, next-token probabilities, the prompt's tokens, and a recorded
// example without WebGPU. Screenshots at rest, running and done go to test-results/gpt-*.png.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { open, useSite, withoutWebGPU } from './server';

const site = useSite();
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

const openAt = (viewport: { width: number; height: number }, query = '') => open(site(), `/demos/gpt/${query}`, viewport);

/** True when the element's box lies wholly inside the first viewport (no scrolling). */
async function inFirstScreen(page: Page, selector: string): Promise<boolean> {
  return page.$eval(selector, (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
  });
}

const ready = (page: Page) => page.waitForSelector('body[data-ready="true"]', { timeout: 180_000 });
const text = async (page: Page, selector: string) => (await page.textContent(selector)) ?? '';

/** WCAG contrast ratio of two CSS rgb() colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('Small language models page (issue 28)', () => {
  it('bug 1, 2, 6: at 1280×800 the prompt, Generate and Stop are on the first screen with the settings beside; the first run says it compiles kernels; stats give time to first token and wall against GPU; candidates, tokens and a labelled attention map that fits, zooms and shows every head', async () => {
    const { page, errors } = await openAt(WIDE, '?tokens=48');
    await ready(page);
    for (const s of ['#prompt', '#generate', '#stop']) expect(await inFirstScreen(page, s), s).toBe(true);
    // The settings sit beside the prompt, not above it.
    const [form, panel] = [(await page.locator('#form').boundingBox())!, (await page.locator('#settings').boundingBox())!];
    expect(panel.x).toBeGreaterThan(form.x + form.width - 1);
    expect(panel.y).toBeLessThan(form.y + form.height);
    // The skip link is the first Tab stop and lands on the prompt.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
    // The tokenizer view of the prompt: ids and readable pieces (a space shown as ·).
    await page.waitForFunction(() => Number(document.getElementById('tokens')?.dataset.count ?? 0) > 0, undefined, { timeout: 60_000 });
    expect(await text(page, '#tokens')).toMatch(/·the\s*258/);
    await page.fill('#prompt', 'In the beginning é');
    await page.waitForFunction(() => document.getElementById('tokens')?.textContent?.includes('⟨é:1/2⟩'), undefined, { timeout: 30_000 });
    await page.fill('#prompt', 'In the beginning');
    await page.evaluate(() => scrollTo(0, 0)); // the skip link scrolled to the prompt
    await page.screenshot({ path: 'test-results/gpt-rest-wide.png' });

    await page.click('#generate');
    // The first run tells what it does before any token comes.
    await page.waitForFunction(
      () => /compiling kernels \(first run only\)/.test(document.getElementById('phase')?.textContent ?? ''),
      undefined,
      {
        timeout: 30_000,
      },
    );
    await page.waitForFunction(() => Number(document.getElementById('output')?.dataset.tokens ?? 0) >= 4, undefined, { timeout: 300_000 });
    expect(await text(page, '#phase')).toBe('');
    await page.screenshot({ path: 'test-results/gpt-running-wide.png' });
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    const stats = await text(page, '#stats');
    expect(stats).toMatch(
      /^48 tokens, as asked · time to first token \d+(\.\d)? (ms|s) \(compiling kernels \d+(\.\d)? (ms|s)\) · wall \d+(\.\d)? (ms|s): GPU runs \d+(\.\d)? (ms|s) \(prefill .*\), compiling \d+(\.\d)? (ms|s), the page and the CPU \d/,
    );
    expect(stats).not.toMatch(/capped|stopped/);

    // Next-token probabilities: 8 candidates per step, light (temperature) and dark (after the cut) bars.
    expect(Number(await page.getAttribute('#next', 'data-steps'))).toBe(48);
    const rows = await page.$$eval('#candidates tbody tr', (trs) =>
      trs.map((tr) => ({ p: Number((tr as HTMLElement).dataset.p), kept: Number((tr as HTMLElement).dataset.kept) })),
    );
    expect(rows.length).toBe(8);
    for (let i = 1; i < rows.length; i++) expect(rows[i].p).toBeLessThanOrEqual(rows[i - 1].p);
    expect(rows.reduce((s, r) => s + r.kept, 0)).toBeLessThanOrEqual(1 + 1e-6);
    expect(rows[0].kept).toBeGreaterThanOrEqual(rows[0].p); // the cut renormalises what it keeps
    await page.locator('#step').fill('0');
    expect(await text(page, '#next-caption')).toMatch(/^Token 1: the model drew/);

    // The attention map: token names on rows at least 13 px tall, no taller than the screen, zoom, every head.
    await page.waitForSelector('body[data-attention="drawn"]', { timeout: 180_000 });
    await page.waitForFunction(() => Number(document.getElementById('heads')?.dataset.heads ?? 0) > 0, undefined, { timeout: 60_000 });
    const data = async (k: string) => page.getAttribute('#attention', `data-${k}`);
    const T = Number(await data('tokens'));
    expect(T).toBeGreaterThan(48);
    expect(await data('named')).toBe('true');
    expect(Number(await data('cell'))).toBeGreaterThanOrEqual(13);
    const map = (await page.locator('#attention').boundingBox())!;
    expect(map.height).toBeLessThanOrEqual(WIDE.height);
    expect(map.x + map.width).toBeLessThanOrEqual(WIDE.width);
    expect(await text(page, '#attention-caption')).toMatch(/^Layer 0 of \d+, head 0 of \d+.* Showing queries \d+–\d+/);
    await page.click('#zoom-reset');
    expect(Number(await data('n'))).toBe(T);
    expect(await data('named')).toBe('false'); // positions on the axes instead of overlapping names
    await page.click('#zoom-in');
    expect(Number(await data('n'))).toBeLessThan(T);
    // Hover: the cell under the mouse names its query and key.
    const [cell, left, top, q0, k0] = await Promise.all(['cell', 'left', 'top', 'q0', 'k0'].map(async (k) => Number(await data(k))));
    await page.evaluate(() => document.getElementById('attention')!.scrollIntoView());
    const box = (await page.locator('#attention').boundingBox())!;
    await page.mouse.move(box.x + left + cell / 2, box.y + top + cell + cell / 2);
    expect(await text(page, '#tooltip')).toMatch(new RegExp(`^query ${q0 + 1} ".*" → key ${k0} ".*": \\d\\.\\d{3}$`));
    const H = Number(await page.getAttribute('#heads', 'data-heads'));
    expect(H).toBeGreaterThan(1);
    await page.evaluate(() => delete document.body.dataset.attention);
    await page.locator('#heads button').nth(1).click();
    await page.waitForSelector('body[data-attention="drawn"]', { timeout: 120_000 });
    expect(await text(page, '#attention-caption')).toMatch(/head 1 of/);
    expect(await page.locator('#heads button[aria-pressed="true"]').textContent()).toBe('head 1');
    await page.evaluate(() => scrollTo(0, 0));
    await page.screenshot({ path: 'test-results/gpt-done-wide.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('bug 1: at 390×844 the prompt, Generate and Stop come first, the settings closed below them, nothing scrolls sideways', async () => {
    const { page, errors } = await openAt(NARROW, '?tokens=10');
    await ready(page);
    for (const s of ['#prompt', '#generate', '#stop']) expect(await inFirstScreen(page, s), s).toBe(true);
    expect(await page.getAttribute('.lil-gui.lil-root > .lil-title', 'aria-expanded')).toBe('false');
    const [form, panel] = [(await page.locator('#form').boundingBox())!, (await page.locator('#settings').boundingBox())!];
    expect(panel.y).toBeGreaterThan(form.y + form.height - 1);
    await page.screenshot({ path: 'test-results/gpt-rest-narrow.png' });
    await page.click('#generate');
    await page.waitForFunction(() => Number(document.getElementById('output')?.dataset.tokens ?? 0) >= 2, undefined, { timeout: 300_000 });
    await page.screenshot({ path: 'test-results/gpt-running-narrow.png' });
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(NARROW.width);
    await page.waitForSelector('body[data-attention="drawn"]', { timeout: 180_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(NARROW.width);
    await page.screenshot({ path: 'test-results/gpt-done-narrow.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('bug 3, 9: Stop at a few tokens of a capped request says stopped (not capped), focus returns to Generate, and the focus ring in the dark panel is visible', async () => {
    // 400 asked; the tiny Llama holds 256 positions, so the menu caps the request at 255 and the prompt leaves 249.
    const { page, errors } = await openAt(WIDE, '?tokens=400');
    await ready(page);
    await page.focus('#generate');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => Number(document.getElementById('output')?.dataset.tokens ?? 0) >= 3, undefined, { timeout: 300_000 });
    await page.focus('#stop');
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-state="stopped"]', { timeout: 120_000 });
    const stats = await text(page, '#stats');
    const n = Number(await page.getAttribute('#output', 'data-tokens'));
    expect(stats).toMatch(new RegExp(`^stopped by you after ${n} of 249 tokens · time to first token`));
    expect(stats).not.toMatch(/capped/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('generate');
    // Keyboard into the settings panel: the focused control's ring stands out from the panel (≥ 3:1).
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => !!document.activeElement?.closest('.lil-gui') && document.activeElement?.tagName === 'SELECT')) break;
    }
    const ring = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const shown = (el.tagName === 'SELECT' ? el.parentElement?.querySelector('.lil-display') : el) as HTMLElement;
      const s = getComputedStyle(shown);
      return {
        tag: el.tagName,
        width: Number.parseFloat(s.outlineWidth),
        style: s.outlineStyle,
        color: s.outlineColor,
        panel: getComputedStyle(document.querySelector('.lil-gui.lil-root')!).backgroundColor,
      };
    });
    expect(ring.tag).toBe('SELECT');
    expect(ring.style).not.toBe('none');
    expect(ring.width).toBeGreaterThanOrEqual(2);
    expect(contrast(ring.color, ring.panel)).toBeGreaterThanOrEqual(3);
    expect(errors).toEqual([]);
  });

  it('bug 4, 5, 7, 8, 2: chat clears its input and says the turn; the old map is marked as updating; the character GPT turns chat off and clears it; + wte only where it differs; a weights switch says it compiles again', async () => {
    const { page, errors } = await openAt(WIDE, '?tokens=6');
    await ready(page);
    // Bug 8: the Llama stores its token table like its other weights: no '+ wte' choices, and the page says why.
    const options = async () => page.$$eval('#weights option', (os) => os.map((o) => o.textContent));
    expect((await options()).some((o) => o?.includes('+ wte'))).toBe(false);
    expect(await text(page, '#weights-note')).toMatch(/no separate “\+ wte” choice/);
    await page.getByText("chat (the model's template)").click();
    for (const [turn, message] of [
      [1, 'Who was Moses?'],
      [2, 'And Aaron?'],
    ] as const) {
      await page.fill('#prompt', message);
      // What the page shows after each change, recorded in the page: a short reply can end before the test looks.
      await page.evaluate(() => {
        const seen: { stale: string; caption: string; message: string; input: string }[] = [];
        (window as unknown as { seen: typeof seen }).seen = seen;
        const get = (id: string) => document.getElementById(id)!;
        new MutationObserver(() =>
          seen.push({
            stale: get('attention-section').dataset.stale ?? '',
            caption: get('attention-caption').textContent ?? '',
            message: get('message').textContent ?? '',
            input: (get('prompt') as HTMLInputElement).value,
          }),
        ).observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true });
      });
      await page.click('#generate');
      await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
      const seen = await page.evaluate(
        () => (window as unknown as { seen: { stale: string; caption: string; message: string; input: string }[] }).seen,
      );
      // Bug 7: the sent text leaves the input; the status names the turn instead of "New conversation".
      const sent = seen.find((x) => x.message.startsWith(`Sent message ${turn}`));
      expect(sent?.input).toBe('');
      // Bug 5: while the reply comes, the previous text's map is marked as updating.
      if (turn === 2) expect(seen.some((x) => x.stale && x.caption.startsWith('updating'))).toBe(true);
      expect(await page.inputValue('#prompt')).toBe('');
      expect(await page.locator('#output .turn.user').count()).toBe(turn);
      expect(await text(page, '#chat-state')).toMatch(new RegExp(`${turn} message`));
      await page.waitForSelector('body[data-attention="drawn"]', { timeout: 180_000 });
      await page.waitForFunction(() => !document.getElementById('attention-section')?.dataset.stale, undefined, { timeout: 180_000 });
      await page.evaluate(() => {
        document.body.dataset.state = '';
        delete document.body.dataset.attention;
      });
    }
    expect(await text(page, '#attention-caption')).not.toMatch(/updating/);
    // Bug 4: the character GPT has no chat template: chat unticks and turns off, the conversation and old stats go.
    await page.locator('#model').selectOption({ label: 'KJV character GPT (GPT-2 layout)' });
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('(GPT-2)'), undefined, { timeout: 180_000 });
    const chatBox = page.locator('.lil-controller', { hasText: "chat (the model's template)" });
    expect(await chatBox.locator('input').isChecked()).toBe(false);
    expect(await chatBox.getAttribute('class')).toMatch(/lil-disabled/);
    expect(await page.locator('#output .turn').count()).toBe(0);
    expect(await text(page, '#stats')).toBe('');
    expect(await text(page, '#chat-state')).toBe('');
    await page.fill('#prompt', 'And God said');
    await page.click('#generate');
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    expect(await page.getAttribute('#message', 'class')).not.toBe('error');
    expect(await text(page, '#output')).toMatch(/^And God said/);
    // Bug 8: the GPT-2 layout keeps its token table apart: '+ wte' is offered, and explained.
    expect((await options()).some((o) => o?.includes('+ wte'))).toBe(true);
    expect(await text(page, '#weights-note')).toMatch(/token table/);
    // Bug 2: new weights compile new kernels, and the next run says so instead of going quiet.
    await page.locator('#weights').selectOption('int8');
    await page.waitForFunction(() => / int8 weights \d/.test(document.getElementById('message')?.textContent ?? ''), undefined, {
      timeout: 180_000,
    });
    await page.evaluate(() => {
      document.body.dataset.state = '';
    });
    await page.click('#generate');
    await page.waitForFunction(() => /compiling kernels/.test(document.getElementById('phase')?.textContent ?? ''), undefined, {
      timeout: 30_000,
    });
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    expect(await text(page, '#stats')).toMatch(/time to first token .* \(compiling kernels .*\) · wall .*: GPU runs/);
    expect(errors).toEqual([]);
  });

  it('LoRA (issue 26): the bundled adapters are listed with rank, alpha, targets and size against the base; one drives Generate; base and adapters side by side; more load from a .gguf file and from a URL', async () => {
    const { page, errors } = await openAt(WIDE, '?tokens=6');
    await ready(page);
    await page.waitForSelector('#lora[data-adapters="psalms proverbs"]', { timeout: 120_000 });
    const row = page.locator('#adapters tr[data-adapter="psalms"]');
    const psalms = (await row.textContent()) ?? '';
    expect(psalms).toMatch(/^psalms \(PEFT\)16\s*32 \(α\/r = 2\)/);
    for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']) expect(psalms).toContain(m);
    expect(psalms).toMatch(/[\d.]+ (KiB|MiB) \(f(16|32)\)\d+\.\d%$/);
    expect(await text(page, '#lora-note')).toMatch(
      /r · \(in \+ out\) numbers instead of in · out: for this model's \d+ × \d+ attention matrices at rank 16/,
    );
    // One adapter for Generate: the stats name it.
    await page.locator('#adapter').selectOption('psalms');
    await page.click('#generate');
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    expect(await text(page, '#stats')).toMatch(/with the LoRA adapter psalms$/);
    // The same prompt, seed and settings under the base and each adapter.
    await page.click('#compare-adapters');
    await page.waitForSelector('body[data-lora="done"]', { timeout: 300_000 });
    const columns = await page.$$eval('#side-by-side figure', (fs) =>
      fs.map((f) => [f.querySelector('figcaption')?.textContent, f.querySelector('pre')?.textContent]),
    );
    expect(columns.map((c) => c[0])).toEqual(['base model', 'adapter: psalms', 'adapter: proverbs']);
    for (const [, t] of columns) expect(t?.length).toBeGreaterThan(0);
    expect(new Set(columns.map((c) => c[1])).size).toBeGreaterThan(1); // the fine-tunes write differently
    await page.screenshot({ path: 'test-results/gpt-lora.png', fullPage: true });
    // A llama.cpp adapter from a file, and a PEFT folder from a URL.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByText('open a .gguf adapter').click()]);
    await chooser.setFiles('public/models/kjv-llama/lora-proverbs.gguf');
    await page.waitForSelector('#adapters tr[data-adapter="lora-proverbs"]', { timeout: 120_000 });
    expect(await page.locator('#adapters tr[data-adapter="lora-proverbs"]').textContent()).toMatch(/llama\.cpp GGUF/);
    await page.fill('#adapter-url', new URL('/models/kjv-llama/lora-psalms/', page.url()).href);
    await page.locator('#adapter-url').press('Enter');
    await page.getByText('load the adapter at the URL').click();
    await page.waitForSelector('#adapters tr[data-adapter="lora-psalms"]', { timeout: 120_000 });
    expect(await page.$$eval('#adapter option', (os) => os.map((o) => o.textContent))).toEqual([
      'base model (none)',
      'psalms',
      'proverbs',
      'lora-proverbs',
      'lora-psalms',
    ]);
    // A URL that is not an adapter: a clear error, the others stay.
    await page.fill('#adapter-url', new URL('/models/nothing-here/', page.url()).href);
    await page.locator('#adapter-url').press('Enter');
    await page.getByText('load the adapter at the URL').click();
    await page.waitForFunction(() => document.getElementById('message')?.className === 'error', undefined, { timeout: 60_000 });
    expect(await text(page, '#message')).toMatch(
      /^Could not load that adapter \((could not fetch \S+nothing-here\/adapter_\S+: HTTP 404|\S+nothing-here\/adapter_\S+ returned an HTML page, not an adapter file.*)\); the model and its other adapters are unchanged/,
    );
    expect(await page.locator('#adapters tbody tr').count()).toBe(4);
    expect(await page.locator('#generate').isDisabled()).toBe(false);
    expect(errors.filter((e) => !/404/.test(e))).toEqual([]); // the missing adapter's request
  });

  it('bug 10: without WebGPU the advice is on the first screen beside a recorded example labelled as such, and the settings look and are off', async () => {
    await withoutWebGPU(async (browser) => {
      for (const [name, viewport] of [
        ['wide', WIDE],
        ['narrow', NARROW],
      ] as const) {
        const page = await browser.newPage({ viewport });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${site().url}/demos/gpt/`);
        await page.waitForSelector('body[data-ready="no-webgpu"]', { timeout: 30_000 });
        await page.waitForSelector('figure#recorded[data-drawn]', { timeout: 30_000 });
        expect(await inFirstScreen(page, '#message'), name).toBe(true);
        expect(await text(page, '#message')).toMatch(/chrome:\/\/gpu/);
        const figureTop = await page.$eval('figure#recorded', (f) => f.getBoundingClientRect().top);
        expect(figureTop, name).toBeLessThan(viewport.height);
        expect(await text(page, 'figure#recorded figcaption')).toMatch(/^Recorded example, not run here: the KJV tiny Llama/);
        expect(await page.locator('figure#recorded #recorded-candidates tbody tr').count()).toBe(5);
        expect(Number(await page.$eval('#settings', (s) => getComputedStyle(s).opacity))).toBeLessThan(0.6);
        expect(await page.locator('.lil-controller:not(.lil-disabled)').count()).toBe(0);
        expect(await page.locator('#generate').isDisabled()).toBe(true);
        await page.screenshot({ path: `test-results/gpt-no-webgpu-${name}.png`, fullPage: true });
        expect(errors).toEqual([]);
        await page.close();
      }
    });
  });
});
