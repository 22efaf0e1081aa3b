// The built site in headless Chromium, driven as a person would: the landing page shows the adapter,
// and the bench page runs its suites, draws charts and exports JSON. Screenshots go to test-results/.
import { describe, expect, it } from 'vitest';
import { open, useSite } from './server';

const site = useSite();

describe('site', () => {
  it('landing page shows the adapter, its features and limits, and links the pages', async () => {
    const { page, errors } = await open(site(), '/');
    await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
    expect(await page.getAttribute('body', 'data-ready')).toBe('true');
    const info = await page.textContent('#info');
    expect(info).toMatch(/Vendor/);
    expect(await page.textContent('#limits')).toMatch(/maxStorageBufferBindingSize/);
    expect(await page.locator('a[href="bench/"]').count()).toBe(1);
    await page.screenshot({ path: 'test-results/landing.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('bench page runs suites, charts them beside TF.js, and exports JSON', async () => {
    const { page, errors } = await open(
      site(),
      '/bench/?quick=1&reps=2&autorun=1&suites=matmul,scheduler,attention,gpt2,int8,sparse,kernels,ort',
    );
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 600_000 });
    expect(await page.textContent('#status')).toMatch(/^Done/);
    expect(await page.getAttribute('body', 'data-state')).toBe('done');
    // One chart per suite that ran.
    expect(await page.locator('#charts canvas').count()).toBe(
      new Set(
        await page.evaluate(() =>
          (window as unknown as { benchResults: { cases: { suite: string }[] } }).benchResults.cases.map((c) => c.suite),
        ),
      ).size,
    );
    const results = await page.evaluate(
      () => (window as unknown as { benchResults: { cases: { kernel: string; results: { variant: string }[] }[] } }).benchResults,
    );
    const variants = new Set(results.cases.flatMap((c) => c.results.map((r) => r.variant)));
    for (const v of ['ours', 'naive', 'tfjs', 'unfused', 'f32', 'op-by-op', 'ort']) expect(variants.has(v)).toBe(true);
    // onnxruntime-web beside ours: every variant of its cases was either checked and timed, or found wrong
    // against the float64 result and not timed (its attention on SwiftShader), and then shown as wrong.
    type OrtCase = { suite: string; kernel: string; results: { variant: string }[]; wrong: { variant: string }[]; skipped: unknown[] };
    const ortCases = (results as unknown as { cases: OrtCase[] }).cases.filter((c) => c.suite === 'ort');
    expect(ortCases.length).toBe(6);
    for (const c of ortCases) {
      expect(c.skipped, c.kernel).toEqual([]);
      expect(c.results[0].variant, c.kernel).toBe('ours'); // ours passed its float64 check
      expect(c.results.length + c.wrong.length, c.kernel).toBe(c.kernel.startsWith('causal attention') ? 4 : 2);
    }
    const wrongRows = await page.locator('#results tr.wrong').count();
    expect(wrongRows).toBe(ortCases.reduce((n, c) => n + c.wrong.length, 0));
    // Readable units: overhead per dispatch, ms per decoded token; the speed-ups sit on our own row.
    const row = (kernel: string, variant = 'ours') =>
      page.locator(`#results tbody tr[data-variant="${variant}"]`, { has: page.locator(`td:first-child:text-is("${kernel}")`) });
    expect(await row('no-op dispatch (floor)').first().getAttribute('data-unit')).toBe('µs/dispatch');
    expect(await row('gpt2-tiny decode step').first().getAttribute('data-unit')).toBe('ms/token');
    const versus = (await row('matmul').first().locator('td').last().textContent()) ?? '';
    expect(versus).toMatch(/\d+\.\d\d× naive/);
    expect(versus).toMatch(/\d+\.\d\d× tfjs/);
    expect(await row('matmul', 'naive').first().locator('td').last().textContent()).toBe('');
    // Each suite's chart compares its variants, ours highlighted.
    expect(await page.locator('#charts figure[data-kind="bar"][data-highlight="ours"]').count()).toBeGreaterThan(0);
    // A GPU picked from the peak table fills the peaks, and results show their share of it.
    expect(await page.textContent('#results')).not.toMatch(/% (FP32|bandwidth)/);
    await page.locator('.lil-controller', { hasText: 'GPU' }).locator('select').first().selectOption('NVIDIA H100 SXM');
    expect(await row('matmul').first().locator('td').nth(7).textContent()).toMatch(/^\d+\.\d% (FP32|bandwidth)$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByText('export JSON').click()]);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const exported = JSON.parse(readFileSync(path!, 'utf8'));
    expect(exported.cases.length).toBe(results.cases.length);
    expect(exported.adapter).toBeTruthy();
    await page.screenshot({ path: 'test-results/bench.png', fullPage: true });
    expect(errors).toEqual([]);
  });

  it('bench page: on a software adapter it starts with small sizes, describes each suite and estimates the run', async () => {
    const { page, errors } = await open(site(), '/bench/');
    await page.waitForSelector('#estimate[data-seconds]', { timeout: 120_000 });
    expect(await page.locator('.lil-controller', { hasText: 'small sizes only' }).locator('input').isChecked()).toBe(true);
    expect(await page.textContent('#estimate')).toMatch(/^\d+ runs at small sizes, 5 repetitions: about \d+ (s|min) on this adapter/);
    expect(await page.locator('#suites dt').count()).toBe(10); // every suite in bench/suites/index.ts
    expect(await page.textContent('#suites')).toMatch(/Tiled matmul against the naive kernel/);
    const quick = Number(await page.getAttribute('#estimate', 'data-seconds'));
    await page.locator('.lil-controller', { hasText: 'small sizes only' }).locator('input').uncheck();
    expect(await page.textContent('#estimate')).toMatch(/at full sizes.*expect a long wait/);
    expect(Number(await page.getAttribute('#estimate', 'data-seconds'))).toBeGreaterThan(5 * quick);
    expect(await page.textContent('.lil-gui')).toMatch(/software adapter: no hardware peak/);
    expect(errors).toEqual([]);
  });

  it('bench page: a tuning table in the URL is accepted, and one that is not a table is refused by name', async () => {
    const good = await open(site(), `/bench/?quick=1&tuning=${encodeURIComponent('{"softmax":{"WG":64}}')}`);
    await good.page.waitForSelector('#adapter:not(:empty)', { timeout: 60_000 });
    expect(await good.page.getAttribute('body', 'data-state')).not.toBe('error');
    expect(good.errors).toEqual([]);
    for (const [tuning, message] of [
      ['{"softmax":', /the tuning URL parameter is not JSON/],
      ['{"softmax":{"WG":"64"}}', /the tuning URL parameter is not a tuning table/],
    ] as const) {
      const { page } = await open(site(), `/bench/?tuning=${encodeURIComponent(tuning)}`);
      await page.waitForSelector('body[data-state="error"]', { timeout: 60_000 });
      expect(await page.textContent('#status')).toMatch(message);
    }
  });

  it('bench page: autotune turns run and itself off while it works, and stop ends it with nothing saved', async () => {
    const { page, errors } = await open(site(), '/bench/?quick=1');
    const control = (name: string) => page.locator('.lil-controller', { hasText: name });
    await page.getByText('autotune this GPU').dblclick();
    await page.waitForSelector('body[data-state="tuning"]');
    expect(await control('autotune this GPU').getAttribute('class')).toMatch(/lil-disabled/);
    expect(await page.locator('#run').isDisabled()).toBe(true);
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('tuning '), undefined, {
      timeout: 120_000,
    });
    await page.click('#stop');
    await page.waitForSelector('body[data-state="stopped"]', { timeout: 120_000 });
    expect(await page.textContent('#status')).toMatch(/^Autotune stopped: nothing saved/);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('webgpu-nlp:tuning')))).toEqual([]);
    expect(await page.locator('#run').isDisabled()).toBe(false);
    expect(errors).toEqual([]);
  });

  it('bench page: a double-clicked run starts once, run is off while it runs, and stop ends it', async () => {
    const { page, errors } = await open(site(), '/bench/?quick=1&reps=1&suites=kernels,matmul');
    await page.waitForSelector('#run');
    await page.locator('#run').dblclick();
    await page.waitForFunction(() => Number((document.getElementById('progress') as HTMLProgressElement).value) >= 1, undefined, {
      timeout: 120_000,
    });
    // One run: the progress only moves forward (two interleaved runs made it jump back).
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(await page.$eval('#progress', (p) => (p as HTMLProgressElement).value));
      await page.waitForTimeout(200);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    await page.click('#stop');
    await page.waitForSelector('body[data-state="stopped"]', { timeout: 120_000 });
    expect(await page.textContent('#status')).toMatch(/^Stopped: \d+ cases/);
    // Run is back on: a new run starts, and stops.
    await page.click('#run');
    await page.waitForSelector('body[data-state="running"]');
    await page.click('#stop');
    await page.waitForSelector('body[data-state="stopped"]', { timeout: 120_000 });
    expect(errors).toEqual([]);
  });
});
