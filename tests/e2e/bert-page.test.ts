// The BERT page in headless Chromium, tried as a person would: fill-mask clicked twice (one job runs, the
// bars come once), the attention maps of every layer and head, the verses embedded with a setting changed
// while it runs, stopped, embedded again and searched; the similarity heatmap; the bundled model's
// classifier and next-sentence head; the same folder loaded from a URL, then from Cache Storage; 390 px
// wide. (Without WebGPU and the 390 / 1280 px panel check: demos.test.ts, which lists this page.)
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, useSite } from './server';

const site = useSite();

describe('BERT page', () => {
  it('fill-mask, attention, search with Stop, similarity, heads, a model from a URL and from the cache', async () => {
    const { page, errors } = await open(site(), '/demos/bert/?verses=40');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 180_000 });
    expect(await page.textContent('#message')).toMatch(
      /KJV BERT \(bundled\): bert, 64 wide, vocabulary 2048; heads: masked LM, classification/,
    );

    // Fill-mask, clicked twice: one job, one set of bars (top 5 for the one mask).
    await page.fill('#mask-text', 'And God said, Let there be [MASK]: and there was light.');
    await page.click('#fill');
    await page.click('#fill', { force: true }).catch(() => undefined); // disabled while the first runs
    await page.waitForFunction(() => document.getElementById('output')?.dataset.top, undefined, { timeout: 120_000 });
    await page.waitForSelector('body[data-state="done"]');
    expect(await page.locator('#output .mask-block').count()).toBe(1);
    expect(await page.locator('#output .bar').count()).toBe(5);
    const probs = await page.$$eval('#output .num', (els) => els.map((e) => Number.parseFloat(e.textContent ?? '')));
    expect(probs.every((p, i) => i === 0 || p <= probs[i - 1])).toBe(true);
    // No [MASK]: a plain message, nothing run.
    await page.fill('#mask-text', 'In the beginning');
    await page.click('#fill');
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('Put [MASK]'));

    // Attention: 3 layers × 4 heads of small maps, the picked one enlarged with token labels; a click picks another.
    expect(await page.getAttribute('#attention-grid', 'data-layers')).toBe('3');
    expect(await page.locator('#attention-grid canvas').count()).toBe(12);
    expect(await page.getAttribute('#attention', 'data-drawn')).toBe('true');
    await page.locator('#attention-grid canvas').nth(6).click();
    expect(await page.getAttribute('#attention', 'aria-label')).toMatch(/layer 2, head 3 over \d+ tokens/);

    // Embed the verses; change a setting while it runs; Stop; again to the end; search.
    await page.click('#embed');
    await page.click('#embed', { force: true }).catch(() => undefined);
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.startsWith('Embedding verses'), undefined, {
      timeout: 60_000,
    });
    await page.locator('.lil-controller', { hasText: 'search: results' }).locator('input').fill('3');
    await page.click('#stop');
    await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
    const afterStop = (await page.textContent('#message')) ?? '';
    expect(afterStop === 'Stopped.' || afterStop.startsWith('40 verses embedded')).toBe(true); // Stop lands between batches
    await page.click('#embed');
    await page.waitForFunction(() => document.body.dataset.indexed === '40', undefined, { timeout: 300_000 });
    await page.waitForSelector('body[data-state="done"]');
    await page.fill('#query', 'the heaven and the earth');
    await page.click('#search');
    await page.waitForFunction(() => document.querySelectorAll('#results li').length === 3, undefined, { timeout: 60_000 });
    const scores = await page.$$eval('#results .score', (els) => els.map((e) => Number((e.textContent ?? '').split(' ')[1])));
    expect(scores.every((s, i) => s <= 1.0001 && (i === 0 || s <= scores[i - 1]))).toBe(true);
    expect(await page.textContent('#results')).toMatch(/Genesis 1:\d+/);
    // Another pooling: the index is stale until embedded again, and the page says so.
    await page.locator('.lil-controller', { hasText: 'embedding pooling' }).locator('select').selectOption('cls');
    await page.click('#search');
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('embed them again'));
    await page.locator('.lil-controller', { hasText: 'embedding pooling' }).locator('select').selectOption('model');

    // Similarity heatmap of the four default sentences.
    await page.click('#compare');
    await page.waitForSelector('#heatmap[data-drawn]', { timeout: 60_000 });
    expect(await page.getAttribute('#heatmap', 'data-n')).toBe('4');

    // The bundled model's heads: testament classifier and next sentence.
    expect(await page.isVisible('#classify-form')).toBe(true);
    expect(await page.isVisible('#ner-form')).toBe(false);
    await page.click('#classify');
    await page.waitForFunction(() => document.getElementById('classify-output')?.dataset.top, undefined, { timeout: 60_000 });
    expect(['Old Testament', 'New Testament']).toContain(await page.getAttribute('#classify-output', 'data-top'));
    await page.waitForSelector('body[data-state="done"]');
    await page.click('#nsp');
    await page.waitForFunction(() => document.getElementById('nsp-output')?.dataset.p, undefined, { timeout: 60_000 });
    expect(await page.textContent('#nsp-output')).toMatch(/segment ids: 0+1+\)$/);
    await page.screenshot({ path: 'test-results/bert.png', fullPage: true });

    // The same folder from a URL (stored in Cache Storage), then again from the cache; memory comes back.
    await page.waitForSelector('body[data-state="done"]');
    const before = Number(await page.getAttribute('#memory', 'data-bytes'));
    const url = `${site().url}/models/kjv-bert/`;
    await page.locator('.lil-controller', { hasText: 'URL of a model folder' }).locator('input').fill(url);
    await page.locator('.lil-gui').getByText('load from the URL').click();
    await page.waitForFunction(() => document.body.dataset.cache === 'stored', undefined, { timeout: 120_000 });
    await page.evaluate(() => delete document.body.dataset.cache);
    await page.locator('.lil-gui').getByText('load from the URL').click();
    await page.waitForFunction(() => document.body.dataset.cache === 'hit', undefined, { timeout: 120_000 });
    await page.waitForSelector('body[data-state="done"]');
    expect(await page.textContent('#message')).toMatch(/^models\/kjv-bert: bert/);
    // One model (and no index) held: what the first held, less the verse index and its plans.
    expect(Number(await page.getAttribute('#memory', 'data-bytes'))).toBeLessThanOrEqual(before);
    // A URL with no model: a clear error, the loaded model kept.
    await page.locator('.lil-controller', { hasText: 'URL of a model folder' }).locator('input').fill(`${site().url}/nothing-here/`);
    await page.locator('.lil-gui').getByText('load from the URL').click();
    await page.waitForFunction(() => document.getElementById('message')?.className === 'error', undefined, { timeout: 60_000 });
    expect(await page.textContent('#message')).toMatch(/nothing-here\/config\.json/);
    await page.click('#compare');
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.startsWith('Cosine similarity'));
    await page.locator('.lil-gui').getByText('clear downloaded models').click();
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
  });

  it('token classification and QA heads from picked model folders (tiny random fixtures with a WordPiece tokenizer)', async () => {
    // Random weights: the spans are whatever the heads say; the page must show them as marks over the text.
    const expected = JSON.parse(readFileSync('tests/fixtures/encoder/expected.json', 'utf8'));
    const words = [
      '[PAD]',
      '[UNK]',
      '[CLS]',
      '[SEP]',
      '[MASK]',
      'my',
      'name',
      'is',
      'wolf',
      '##gang',
      'and',
      'i',
      'live',
      'in',
      'berlin',
      'where',
      'do',
      '?',
      '.',
    ];
    const special = (content: string) => ({
      id: words.indexOf(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    const template = (seqs: string[]) =>
      seqs.flatMap((id, i) => [
        ...(i === 0 ? [{ SpecialToken: { id: '[CLS]', type_id: 0 } }] : []),
        { Sequence: { id, type_id: i } },
        { SpecialToken: { id: '[SEP]', type_id: i } },
      ]);
    const tokenizer = {
      added_tokens: words.slice(0, 5).map(special),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: template(['A']),
        pair: template(['A', 'B']),
        special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(words.map((w, i) => [w, i])),
      },
    };
    const folder = (name: string, config: unknown, weights: string) => {
      const dir = join(mkdtempSync(join(tmpdir(), 'bert-page-')), name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
      copyFileSync(`tests/fixtures/encoder/${weights}`, join(dir, 'model.safetensors'));
      return dir;
    };
    const { page, errors } = await open(site(), '/demos/bert/');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 180_000 });
    const pick = async (dir: string, name: string) => {
      const [chooser] = await Promise.all([
        page.waitForEvent('filechooser'),
        page.locator('.lil-gui').getByText('open a model folder').click(),
      ]);
      await chooser.setFiles(dir);
      await page.waitForFunction((n) => document.body.dataset.model === n && document.body.dataset.state === 'done', name, {
        timeout: 120_000,
      });
    };
    await pick(folder('ner-tiny', expected['distilbert-token'].config, 'distilbert-token.safetensors'), 'ner-tiny');
    expect(await page.textContent('#message')).toMatch(
      /ner-tiny: distilbert, 32 wide.*token classification \(O, B-PER, I-PER, B-LOC, I-LOC\)/,
    );
    expect(await page.isVisible('#ner-form')).toBe(true);
    expect(await page.isVisible('#classify-form')).toBe(false);
    const text = await page.inputValue('#ner-text');
    for (const strategy of ['simple', 'first', 'max']) {
      await page.locator('.lil-controller', { hasText: 'NER: aggregation' }).locator('select').selectOption(strategy);
      await page.evaluate(() => delete document.getElementById('ner-output')!.dataset.entities);
      await page.click('#ner');
      await page.waitForFunction(() => document.getElementById('ner-output')?.dataset.entities !== undefined, undefined, {
        timeout: 60_000,
      });
      const spans = (await page.getAttribute('#ner-output', 'data-entities'))!.split('|').filter(Boolean);
      for (const span of spans) expect(text.toLowerCase()).toContain(span.split(':')[1].toLowerCase());
      expect(await page.locator('#ner-output mark').count()).toBe(spans.length);
      expect(await page.textContent('#message')).toMatch(new RegExp(`\\(${strategy} aggregation\\)`));
    }
    // Fill-mask on a model without a masked-LM head: a plain error, nothing breaks.
    await page.fill('#mask-text', 'my name is [MASK] .');
    await page.click('#fill');
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('has no masked-LM head'));

    await pick(folder('qa-tiny', expected.roberta.config, 'roberta.safetensors'), 'qa-tiny');
    expect(await page.isVisible('#qa-form')).toBe(true);
    await page.click('#qa');
    await page.waitForFunction(() => document.getElementById('answer')?.dataset.answer !== undefined, undefined, { timeout: 60_000 });
    const context = await page.inputValue('#qa-context');
    const answer = (await page.getAttribute('#answer', 'data-answer'))!;
    expect(answer.length).toBeGreaterThan(0);
    expect(context).toContain(answer);
    expect(await page.textContent('#answer mark')).toBe(answer);
    // The console's 404s are a folder's optional files (modules.json, …) being looked for; nothing else.
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
    await page.close();
  });

  it('at 390 px the page fits, the maps scale down, and the main action comes before the maps', async () => {
    const page = await site().browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${site().url}/demos/bert/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 180_000 });
    await page.waitForSelector('#attention[data-drawn]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const fill = (await page.locator('#fill').boundingBox())!;
    const maps = (await page.locator('#attention-grid').boundingBox())!;
    expect(fill.y).toBeLessThan(maps.y);
    expect(fill.x + fill.width).toBeLessThanOrEqual(390);
    const attention = (await page.locator('#attention').boundingBox())!;
    expect(attention.x + attention.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: 'test-results/narrow-bert-page.png', fullPage: true });
    await page.close();
  });
});
