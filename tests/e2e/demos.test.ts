// The demo pages in headless Chromium, driven as a person would, each from its bundled model:
// word2vec neighbours and analogies, bad files and unknown words, model replacement freeing memory;
// the LSTM writing N characters; the small-language-models page streaming N tokens, drawing attention,
// chatting through the model's template and opening a GGUF file. Screenshots go to test-results/.
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_BIN } from '../../tools/gpu-env.mjs';
import { open, useSite } from './server';

const site = useSite();

describe('demos', () => {
  it('word2vec: neighbours, analogies, unknown words, bad files, and a reload that frees the old model', async () => {
    const { page, errors } = await open(site(), '/demos/word2vec/');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    expect((await page.getAttribute('body', 'data-neighbours'))!.split(' ')).toContain('lord');
    // GPU memory with one model and its top-10 plan; a reloaded model must come back to exactly this.
    const before = Number(await page.getAttribute('#memory', 'data-bytes'));
    await page.fill('#query', 'sheep');
    await page.click('#search-form button');
    await page.waitForFunction(() => document.body.dataset.neighbours?.includes('flock'), undefined, { timeout: 30_000 });
    await page.click('#analogy-form button');
    await page.waitForFunction(() => (document.getElementById('analogy-result')?.textContent ?? '').length > 0, undefined, {
      timeout: 30_000,
    });
    // Examples that work on these vectors fill the three boxes and answer.
    await page.getByText('go : went :: come').click();
    await page.waitForFunction(() => document.body.dataset.analogy?.split(' ')[0] === 'came', undefined, { timeout: 30_000 });
    expect(await page.inputValue('#c')).toBe('come');
    await page.fill('#query', '');
    await page.click('#search-form button');
    await page.waitForFunction(() => document.getElementById('search-error')?.textContent === 'Type a word to find its neighbours.');
    // The map: axes with explained variance, labels placed without overlap, zoom about the cursor, reset, a table.
    const canvas = page.locator('#scatter');
    expect(await canvas.getAttribute('aria-label')).toMatch(/first two principal components \(\d+% and \d+% of the variance\)/);
    expect(Number(await canvas.getAttribute('data-labels'))).toBeGreaterThan(10);
    expect(await page.locator('#points tbody tr').count()).toBe(27); // the 27 words in the box, all known
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await page.waitForFunction(() => Number(document.getElementById('scatter')?.dataset.scale) > 1);
    await page.click('#reset-view');
    expect(await canvas.getAttribute('data-scale')).toBe('1.000');
    await page.fill('#query', 'xyzzy');
    await page.click('#search-form button');
    await page.waitForFunction(() => document.getElementById('search-error')?.textContent?.includes("'xyzzy' is not in the vocabulary"));

    await page.fill('#query', 'god');
    const load = async (path: string) => {
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator('.lil-gui').getByText('load vectors').click()]);
      await chooser.setFiles(path);
    };
    await load('package.json');
    await page.waitForFunction(
      () =>
        document.getElementById('message')?.className === 'error' &&
        document.getElementById('message')!.textContent!.includes('still using the previous vectors'),
    );
    await load('public/models/kjv-word2vec.bin');
    await page.waitForFunction(
      () => document.getElementById('message')?.className === 'info' && document.body.dataset.neighbours?.includes('lord'),
      undefined,
      { timeout: 60_000 },
    );
    expect(Number(await page.getAttribute('#memory', 'data-bytes'))).toBe(before);
    await page.screenshot({ path: 'test-results/word2vec.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('LSTM: writes N characters after the prompt and draws the hidden-unit heatmap', async () => {
    const { page, errors } = await open(site(), '/demos/lstm/?chars=40');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    await page.click('#generate');
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    expect(await page.getAttribute('#output', 'data-generated')).toBe('40');
    // Every generated character is a column; hovering a cell names it, clicking a row colours the text by that unit.
    expect(await page.getAttribute('#heatmap', 'data-cols')).toBe('40');
    expect(await page.getAttribute('#heatmap', 'data-rows')).toBe('24');
    const box = (await page.locator('#heatmap').boundingBox())!;
    await page.mouse.move(box.x + 34 + 9 * 5 + 4, box.y + 16 + 11 * 3 + 5); // character 6, unit row 3
    expect(await page.textContent('#tooltip')).toMatch(/^character 6 ".*" · unit 3: h = -?\d\.\d{3}$/);
    await page.mouse.click(box.x + 34 + 9 * 5 + 4, box.y + 16 + 11 * 3 + 5);
    expect(await page.getAttribute('body', 'data-unit')).toBe('3');
    expect(await page.locator('#unit-text span').count()).toBe(40);
    expect(await page.textContent('#unit-caption')).toMatch(/coloured by unit 3/);
    // Asking for more units than the heatmap shows says so.
    const units = page.locator('.lil-controller', { hasText: 'hidden units' }).locator('input');
    await units.fill('0-127');
    await units.press('Enter');
    await page.waitForFunction(() => document.getElementById('unit-caption')?.textContent?.includes('the first 64 of the 128 units'));
    await page.screenshot({ path: 'test-results/lstm.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('LSTM: Stop ends a long run, loading is off while it runs, and unknown prompt characters are named', async () => {
    const { page, errors } = await open(site(), '/demos/lstm/?chars=1000');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    await page.fill('#prompt', 'And God said € Let there be light');
    await page.click('#generate');
    await page.waitForFunction(() => Number(document.getElementById('heatmap')?.dataset.cols ?? 0) >= 10, undefined, { timeout: 120_000 });
    expect(await page.locator('#generate').isDisabled()).toBe(true);
    expect(await page.locator('.lil-controller', { hasText: 'load a PyTorch LSTM' }).locator('button').isDisabled()).toBe(true);
    await page.click('#stop');
    await page.waitForSelector('body[data-state="stopped"]', { timeout: 60_000 });
    const message = (await page.textContent('#message')) ?? '';
    expect(message).toMatch(/^\d+ characters \(stopped\)/);
    expect(Number(message.split(' ')[0])).toBeLessThan(1000);
    expect(message).toMatch(/"€" is not among the model's \d+ characters and was left out/);
    expect(await page.locator('#generate').isDisabled()).toBe(false);
    expect(await page.locator('.lil-controller', { hasText: 'load a PyTorch LSTM' }).locator('button').isDisabled()).toBe(false);
    expect(errors).toEqual([]);
  });

  it('Small LMs: the tiny Llama streams N tokens from the worker, reports speed, and draws an attention map', async () => {
    const { page, errors } = await open(site(), '/demos/gpt/?tokens=44');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    await page.click('#generate');
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    expect(await page.getAttribute('#output', 'data-tokens')).toBe('44');
    expect(await page.textContent('#stats')).toMatch(/tokens\/s/);
    await page.waitForSelector('body[data-attention="drawn"]', { timeout: 120_000 });
    expect(await page.textContent('#attention-caption')).toMatch(/^Layer 0 of \d+, head 0 of \d+.* Dense causal attention/);
    const tokens = Number(await page.getAttribute('#attention', 'data-tokens'));
    expect(tokens).toBeGreaterThan(40);
    await page.evaluate(() => document.getElementById('attention')!.scrollIntoView());
    const map = (await page.locator('#attention').boundingBox())!;
    const at = async (k: string) => Number(await page.getAttribute('#attention', `data-${k}`));
    const [cell, left, top, q0] = [await at('cell'), await at('left'), await at('top'), await at('q0')];
    await page.mouse.move(map.x + left + cell / 2, map.y + top + cell + cell / 2); // the view's second query, its first key
    expect(await page.textContent('#tooltip')).toMatch(new RegExp(`^query ${q0 + 1} ".*" → key ${q0} ".*": \\d\\.\\d{3}$`));
    // A sliding window of 8 tokens: the page says what it does and the map hatches the keys it hides.
    const windowInput = page.locator('.lil-controller', { hasText: 'window (tokens)' }).locator('input');
    await windowInput.fill('8');
    await windowInput.press('Enter');
    await page.evaluate(() => delete document.body.dataset.attention);
    await page.locator('.lil-controller', { hasText: 'sliding-window attention' }).locator('input').check();
    expect(await page.textContent('#message')).toMatch(
      /^Sliding-window attention on: each token attends to about the last 8 tokens \(in blocks of 16\)/,
    );
    await page.waitForSelector('body[data-attention="drawn"]', { timeout: 120_000 });
    expect(Number(await page.getAttribute('#attention', 'data-masked'))).toBeGreaterThan(0);
    expect(await page.textContent('#attention-caption')).toMatch(/Sliding window of 8 tokens: hatched cells/);
    await page.screenshot({ path: 'test-results/gpt.png', fullPage: true });

    // Sliding-window attention: the drift from dense is measured and shown.
    await page.getByText('drift from dense (KL)').click();
    await page.waitForSelector('body[data-compare="done"]', { timeout: 120_000 });
    expect(await page.textContent('#stats')).toMatch(/KL\(dense ‖ sparse\) \S+ nats, (practically|small|noticeable|large)/);

    // int8 weights: the model reloads and its weights take less GPU memory; 4-bit blocks less again.
    const f32Bytes = Number(await page.getAttribute('#memory', 'data-bytes'));
    const reloadWith = async (w: string) => {
      await page.locator('#weights').selectOption(w);
      await page.waitForFunction((w) => document.getElementById('message')?.textContent?.includes(`, ${w} weights `), w, {
        timeout: 120_000,
      });
      return Number(await page.getAttribute('#memory', 'data-bytes'));
    };
    const int8Bytes = await reloadWith('int8');
    expect(int8Bytes).toBeLessThan(f32Bytes);
    expect(await reloadWith('q4_0')).toBeLessThan(int8Bytes);
    // The GPT-2-layout model: its token table follows the weights only with '+ wte'.
    await page.locator('#model').selectOption({ label: 'KJV character GPT (GPT-2 layout)' });
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('(GPT-2)'), undefined, { timeout: 120_000 });
    const gptBytes = Number(await page.getAttribute('#memory', 'data-bytes'));
    expect(await reloadWith('q4_0 + wte')).toBeLessThan(gptBytes);
    expect(await page.getAttribute('body', 'data-chat')).toBe('false');
    expect(errors).toEqual([]);
  });

  it('Small LMs: a two-turn chat through the chat template; a .gguf file opens with its own tokenizer, a broken one is refused', async () => {
    const { page, errors } = await open(site(), '/demos/gpt/?tokens=12');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    expect(await page.getAttribute('body', 'data-chat')).toBe('true');
    await page.getByText("chat (the model's template)").click();
    for (const [turn, text] of [
      [1, 'Who was Moses?'],
      [2, 'And Aaron?'],
    ] as const) {
      await page.fill('#prompt', text);
      await page.click('#generate');
      await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
      expect(await page.locator('#output .turn.user').count()).toBe(turn);
      expect(await page.locator('#output .turn.assistant').count()).toBe(turn);
      expect(await page.locator('#output .turn.user').last().textContent()).toBe(text);
      await page.evaluate(() => {
        document.body.dataset.state = '';
      });
    }
    const open_ = async (path: string) => {
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByText('open a .gguf or .safetensors').click()]);
      await chooser.setFiles(path);
    };
    // A GGUF without an embedded vocabulary: a clear error, and the previous model stays.
    await open_('tests/fixtures/llama/llama.gguf');
    await page.waitForFunction(() => document.getElementById('message')?.className === 'error', undefined, { timeout: 60_000 });
    expect(await page.textContent('#message')).toMatch(/embeds no tokenizer.*still using the previous one/);
    // The bundled model as llama.cpp would write it (Q8_0, permuted q/k, tokenizer inside).
    await open_('tests/fixtures/llama/kjv-llama-q8_0.gguf');
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('kjv-llama-q8_0.gguf (llama)'), undefined, {
      timeout: 120_000,
    });
    // The file's own formats are named, not the menu's f32.
    expect(await page.textContent('#message')).toMatch(/GGUF matrices \(\d+ Q8_0[^)]*; float ones as f32\) weights/);
    await page.getByText('new conversation').click();
    await page.fill('#prompt', 'Who was Moses?');
    await page.click('#generate');
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    expect(await page.locator('#output .turn.assistant').count()).toBe(1);
    // The attention map shows the conversation as the model read it: the template's tokens included.
    await page.waitForFunction(() => document.getElementById('attention')?.dataset.first === '<|im_start|>', undefined, {
      timeout: 120_000,
    });
    await page.screenshot({ path: 'test-results/small-lms-chat.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('Small LMs: a model from a URL is downloaded once, then read from the browser cache; Stop cancels a download; the cache clears', async () => {
    const { page, errors } = await open(site(), '/demos/gpt/');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    const url = new URL('/models/kjv-char-gpt.safetensors', page.url()).href;
    const download = async () => {
      await page.fill('#url', url);
      await page.locator('#url').press('Enter');
      await page.getByText('download GPT-2 (124M)').click();
    };
    await download();
    await page.waitForSelector('body[data-cache="stored"]', { timeout: 120_000 });
    await page.waitForFunction(
      () => document.getElementById('message')?.textContent?.includes('kjv-char-gpt.safetensors (GPT-2)'),
      undefined,
      {
        timeout: 120_000,
      },
    );
    expect(await page.getAttribute('#cache', 'data-files')).toBe('1');
    await page.evaluate(() => {
      document.body.dataset.cache = '';
    });
    await download();
    await page.waitForSelector('body[data-cache="hit"]', { timeout: 120_000 });
    expect(await page.textContent('#cache')).toMatch(/loaded from the cache, no download/);
    await page.getByText('clear downloaded models').click();
    await page.waitForFunction(() => document.getElementById('cache')?.dataset.files === '0', undefined, { timeout: 30_000 });
    // A download that never finishes (the server holds the response): Stop cancels it, the model stays.
    let release: () => void = () => {};
    await page.context().route(
      '**/held/model.safetensors',
      (route) =>
        new Promise<void>((r) => {
          release = () => {
            r();
            void route.abort();
          };
        }),
    );
    await page.fill('#url', new URL('/held/model.safetensors', page.url()).href);
    await page.locator('#url').press('Enter');
    await page.getByText('download GPT-2 (124M)').click();
    await page.waitForFunction(() => !(document.getElementById('stop') as HTMLButtonElement).disabled, undefined, { timeout: 30_000 });
    await page.click('#stop');
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('download cancelled'), undefined, {
      timeout: 60_000,
    });
    expect(await page.textContent('#message')).toMatch(/still using the previous one/);
    expect(await page.locator('#generate').isDisabled()).toBe(false);
    release();
    expect(errors).toEqual([]);
  });

  it('GPT: while tokens stream the model controls are off, Stop ends the run cleanly, and the next run works', async () => {
    const { page, errors } = await open(site(), '/demos/gpt/?tokens=200');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    await page.click('#generate');
    await page.waitForFunction(() => Number(document.getElementById('output')?.dataset.tokens ?? 0) >= 3, undefined, { timeout: 120_000 });
    expect(await page.locator('#weights').isDisabled()).toBe(true);
    expect(await page.locator('#model').isDisabled()).toBe(true);
    expect(await page.locator('#generate').isDisabled()).toBe(true);
    await page.click('#stop');
    await page.waitForSelector('body[data-state="stopped"]', { timeout: 120_000 });
    const stoppedAt = Number(await page.getAttribute('#output', 'data-tokens'));
    expect(stoppedAt).toBeLessThan(200);
    expect(await page.locator('#weights').isDisabled()).toBe(false);
    expect(await page.getAttribute('#message', 'class')).not.toBe('error');
    // Weights changed after the stop, then a full run on the reloaded model.
    await page.locator('#weights').selectOption('int8');
    await page.waitForFunction(() => /, int8 weights \d/.test(document.getElementById('message')?.textContent ?? ''), undefined, {
      timeout: 120_000,
    });
    await page.click('#generate');
    await page.waitForSelector('body[data-state="done"]', { timeout: 300_000 });
    expect(await page.getAttribute('#output', 'data-tokens')).toBe('200');
    expect(errors).toEqual([]);
  });

  it('without WebGPU every page explains what to do in this browser, turns its controls off and throws nothing', async () => {
    // Chromium on Linux without --enable-unsafe-webgpu: navigator.gpu exists, no adapter comes.
    const browser = await chromium.launch({
      executablePath: CHROMIUM_BIN,
      args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
      headless: true,
    });
    try {
      for (const path of ['/', '/demos/word2vec/', '/demos/lstm/', '/demos/gpt/', '/demos/bert/', '/bench/']) {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${site().url}${path}`);
        await page.waitForSelector('body[data-ready="no-webgpu"]', { timeout: 30_000 });
        const text = (await page.textContent('body')) ?? '';
        expect(text, path).toMatch(/chrome:\/\/gpu/);
        expect(text, path).not.toMatch(/apt-get|VK_ICD_FILENAMES/);
        const enabled = await page.$$eval('button, input, select', (els) => els.filter((e) => !(e as HTMLInputElement).disabled).length);
        expect(enabled, `${path}: controls left enabled`).toBe(0);
        expect(errors, path).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });

  it('at 390 and 1280 px wide no page scrolls sideways and the settings panel covers nothing', async () => {
    for (const [width, height] of [
      [390, 844],
      [1280, 800],
    ]) {
      for (const path of ['/demos/word2vec/', '/demos/lstm/', '/demos/gpt/', '/demos/bert/', '/bench/']) {
        const page = await site().browser.newPage({ viewport: { width, height } });
        await page.goto(`${site().url}${path}`);
        await page.waitForSelector('.lil-gui.lil-root');
        const layout = await page.evaluate(() => {
          const box = (el: Element | null) => el?.getBoundingClientRect();
          const panel = box(document.querySelector('.lil-gui.lil-root'))!;
          const others = ['h1', '#message', '#status', '#form', '#output', '#charts']
            .map((q) => [q, box(document.querySelector(q))] as const)
            .filter(([, b]) => b && b.width > 0 && b.height > 0);
          const overlaps = others
            .filter(([, b]) => b!.left < panel.right && panel.left < b!.right && b!.top < panel.bottom && panel.top < b!.bottom)
            .map(([q]) => q);
          return { scroll: document.documentElement.scrollWidth, overlaps };
        });
        expect(layout.scroll, `${path} at ${width} px scrolls sideways`).toBeLessThanOrEqual(width);
        expect(layout.overlaps, `${path} at ${width} px: the panel covers`).toEqual([]);
        if (width === 390)
          await page.screenshot({ path: `test-results/narrow-${path.split('/').filter(Boolean).pop()}.png`, fullPage: true });
        await page.close();
      }
    }
  });
});
