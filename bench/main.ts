// The benchmark page: the same suites as the Node CLI, on this browser's GPU, with TF.js on the same
// device, charts per kernel, the fraction of the GPU's peak, JSON export, loading exported files to
// compare GPUs, and autotuning kept per adapter in localStorage.
// URL parameters (used by the e2e test and bench/browser.ts): ?quick=1 &suites=matmul,attention &reps=3 &autorun=1
// &ortSubgroups=0 (onnxruntime-web on a device without the subgroup features) &sizes=1024x1024,T=256 (only these)
// &models=http://127.0.0.1:8123/ (where tools/make_gpt2_onnx.py's files are served)
// &tuning={"softmax":{"WG":64}} (a tuning table for the engine, over the one saved for the adapter)
import GUI from 'lil-gui';
import { Engine, type TuningTable } from 'webgpu-nlp';
import { collapseOnNarrow } from '../demos/common/page';
import { checkWebGPU } from '../demos/common/webgpu-check';
import recordedUrl from './results/google-swiftshader-device-subzero-driver-5-0.json?url';
import { autotune } from './autotune';
import { formatMetric, metric, peakShare } from './metric';
import { drawCharts, type Series } from './page/charts';
import { calibrate, estimateSeconds, formatDuration, type Rates } from './page/estimate';
import { PEAKS, candidatesFor, isSoftwareAdapter, lookupPeak } from './page/peaks';
import { type Ort, startOrt } from './peers/ort';
import { startTfjs, type Tf } from './peers/tfjs';
import { ratios, runSuites } from './run';
import { suites } from './suites/index';
import type { CaseResult } from './suites/types';

interface Exported {
  adapter: Engine['adapter'];
  runtime: string;
  date: string;
  features: Engine['features'];
  cases: CaseResult[];
  file?: string;
  /** A run stopped before its end. */
  partial?: boolean;
}

const $ = (id: string) => document.getElementById(id)!;
const params = new URLSearchParams(location.search);
const status = (text: string, error = false) => {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
};

const tuningKey = (a: Engine['adapter']) => `webgpu-nlp:tuning:${a.vendor}|${a.architecture}|${a.device}|${a.description}`;

async function makeEngine(tuning?: TuningTable): Promise<Engine> {
  return Engine.create({ powerPreference: 'high-performance', tuning });
}

/** A tuning table from JSON: { key: { name: number } }, or an error naming where it came from. */
function parseTuning(text: string, where: string): TuningTable {
  let table: unknown;
  try {
    table = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where} is not JSON: ${(e as Error).message}`);
  }
  const ok =
    typeof table === 'object' &&
    table !== null &&
    !Array.isArray(table) &&
    Object.values(table).every(
      (cfg) => typeof cfg === 'object' && cfg !== null && Object.values(cfg).every((v) => typeof v === 'number' && Number.isFinite(v)),
    );
  if (!ok) throw new Error(`${where} is not a tuning table ({ "softmax": { "WG": 64 }, ... }): ${text.slice(0, 80)}`);
  return table as TuningTable;
}

/** Without WebGPU: a run recorded on SwiftShader (bench/results/), drawn as this page would draw it. */
const recorded = {
  caption: "a run of every suite on SwiftShader, a CPU (so these are a CPU's times, not a GPU's).",
  async render(): Promise<Node> {
    const res = await fetch(recordedUrl);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = (await res.json()) as Exported;
    const box = document.createElement('div');
    const when = Object.assign(document.createElement('p'), {
      textContent: `Recorded ${data.date.slice(0, 10)} in ${data.runtime} on ${[data.adapter.vendor, data.adapter.description].filter(Boolean).join(' · ')}.`,
    });
    const charts = document.createElement('div');
    charts.id = 'recorded-charts';
    box.append(when, charts);
    queueMicrotask(() => drawCharts(charts, seriesOf(data, '')));
    return box;
  },
};

let engine: Engine;
if (!(await checkWebGPU({ recorded }))) {
  $('adapter').textContent = 'No WebGPU adapter, so nothing can be measured in this browser: what to do, and a recorded run, follow below.';
  await new Promise(() => undefined); // the page stays as it is, every control off
}
try {
  const probe = await makeEngine();
  // ?tuning=<table as JSON> (bench:browser --tuning) wins over the table saved for this adapter.
  const saved = params.get('tuning') ?? localStorage.getItem(tuningKey(probe.adapter));
  if (saved) probe.dispose();
  engine = saved ? await makeEngine(parseTuning(saved, params.has('tuning') ? 'the tuning URL parameter' : 'the saved tuning')) : probe;
} catch (e) {
  status(`${(e as Error).message}`, true);
  document.body.dataset.state = 'error';
  throw e;
}
const a = engine.adapter;
document.body.dataset.ready = 'true';
$('adapter').textContent =
  `${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' · ') || 'unknown adapter'} — timestamp queries: ${engine.features.timestampQuery ? 'yes (GPU time)' : 'no (wall time)'}`;

// Peaks: the table's entry for this adapter when its name says which GPU it is; when Chrome gives only
// the architecture and one entry fits it, that one; otherwise the user picks or types their own.
const software = isSoftwareAdapter(a);
const candidates = candidatesFor(a);
const peak = lookupPeak(a) ?? (candidates.length === 1 ? candidates[0] : null);
const OTHER = 'other (enter below)';
const state = {
  // Full-size cases take many minutes on a CPU-emulated adapter: quick sizes unless the URL says otherwise.
  quick: params.has('quick') ? params.get('quick') === '1' : software,
  reps: Number(params.get('reps') ?? 5),
  tfjs: true,
  ort: true,
  gpu: peak?.name ?? OTHER,
  peakGflops: peak?.gflops ?? 0,
  peakGbps: peak?.gbps ?? 0,
  autotune: () => void tune(),
  exportJson: () => exportJson(),
  loadJson: () => pickFiles(),
};
const chosen: Record<string, boolean> = Object.fromEntries(
  suites.map((s) => [s.name, params.has('suites') ? params.get('suites')!.split(',').includes(s.name) : s.name !== 'gpt2']),
);

const gui = new GUI({ title: 'Settings', container: $('controls') });
collapseOnNarrow(gui);
const fs = gui.addFolder('Suites');
for (const s of suites) fs.add(chosen, s.name).name(s.name).onChange(showEstimate);
gui.add(state, 'quick').name('small sizes only').onChange(showEstimate);
gui.add(state, 'reps', 1, 20, 1).name('repetitions').onFinishChange(showEstimate);
gui.add(state, 'tfjs').name('TF.js peer');
gui.add(state, 'ort').name('onnxruntime-web peer');
const pf = gui.addFolder(
  software
    ? 'GPU peak (software adapter: no hardware peak)'
    : `GPU peak${peak ? ` (${peak.name})` : ' (pick your GPU or enter its figures)'}`,
);
const names = [...candidates.map((p) => p.name), ...Object.keys(PEAKS).filter((n) => !candidates.some((p) => p.name === n)), OTHER];
pf.add(state, 'gpu', names)
  .name('GPU')
  .onChange((name: string) => {
    const p = PEAKS[name];
    if (p) {
      gflopsCtl.setValue(p.gflops);
      gbpsCtl.setValue(p.gbps);
    }
  });
const gflopsCtl = pf.add(state, 'peakGflops').name('FP32 GFLOP/s').onChange(render);
const gbpsCtl = pf.add(state, 'peakGbps').name('bandwidth GB/s').onChange(render);
const runButton = $('run') as HTMLButtonElement;
const stopButton = $('stop') as HTMLButtonElement;
runButton.addEventListener('click', () => void runAll());
stopButton.addEventListener('click', () => running?.abort());
const tuneCtl = gui.add(state, 'autotune').name('autotune this GPU');

/** While suites run or autotune works, run and autotune are off (a second run would corrupt the timings) and stop is on. */
let running: AbortController | null = null;
function setRunning(on: boolean): void {
  runButton.disabled = on;
  tuneCtl.enable(!on);
  stopButton.disabled = !on;
  // Focus stays on the page's action: Stop while it runs, Run when it ends (not the page body).
  if (on && document.activeElement === runButton) stopButton.focus();
  if (!on && document.activeElement === stopButton) runButton.focus();
}

/** What each suite measures, and how many cases the current choice holds. */
function describeSuites(): void {
  const list = $('suites');
  list.replaceChildren();
  for (const s of suites) {
    const n = s.cases({ engine, tf: null, quick: state.quick }).reduce((k, c) => k + c.variants.length, 0);
    list.append(
      Object.assign(document.createElement('dt'), { textContent: `${s.name} (${n} runs${chosen[s.name] ? '' : ', not chosen'})` }),
      Object.assign(document.createElement('dd'), { textContent: s.description }),
    );
  }
}

let rates: Rates | null = null;
/** The expected length of a run with the current choice, from the calibration rates. */
function showEstimate(): void {
  describeSuites();
  const cases = suites.filter((s) => chosen[s.name]).flatMap((s) => s.cases({ engine, tf: null, quick: state.quick }));
  const runs = cases.reduce((k, c) => k + c.variants.length, 0);
  const sizes = state.quick ? 'small sizes' : 'full sizes';
  if (!rates) {
    $('estimate').textContent = `${runs} runs at ${sizes}; measuring this adapter for an estimate…`;
    return;
  }
  const s = estimateSeconds(cases, rates, 1 + state.reps);
  $('estimate').textContent =
    `${runs} runs at ${sizes}, ${state.reps} repetitions: about ${formatDuration(s)} on this adapter (calibrated at ${rates.gflops.toFixed(1)} GFLOP/s, ${rates.gbps.toFixed(1)} GB/s; peers and baselines can take longer).${software && !state.quick ? ' Full sizes on a software adapter: expect a long wait.' : ''}`;
  $('estimate').dataset.seconds = String(Math.round(s));
}
gui.add(state, 'exportJson').name('export JSON');
gui.add(state, 'loadJson').name('load JSON to compare…');

let current: Exported | null = null;
const loaded: Exported[] = [];
let tf: Tf | null = null;
let ort: Ort | null = null;

/** One chart series per variant of a result (its label prefixed by the file it came from, if any). */
function seriesOf(e: Exported, prefix: string): Series[] {
  const variants = [...new Set(e.cases.flatMap((c) => c.results.map((r) => r.variant)))];
  return variants.map((v) => ({ label: `${prefix}${v}`, cases: e.cases, variant: v }));
}

function render(): void {
  const series = [...(current ? seriesOf(current, '') : []), ...loaded.flatMap((f) => seriesOf(f, `${f.file}: `))];
  drawCharts($('charts'), series);
  const table = $('results') as HTMLTableElement;
  table.replaceChildren();
  if (!current) return;
  const head = table.createTHead().insertRow();
  for (const h of ['kernel', 'size', 'variant', 'median ms', 'min–max ms', 'result', 'GB/s', '% of peak', 'ours vs each'])
    head.insertCell().outerHTML = `<th>${h}</th>`;
  const body = table.createTBody();
  const peakNow = { gflops: state.peakGflops, gbps: state.peakGbps };
  for (const c of current.cases) {
    const q = ratios(c);
    for (const r of c.results) {
      const row = body.insertRow();
      const share = peakShare(c, r, peakNow);
      // The speed-up sits on our row, against each other variant (peer time / our time: above 1, ours is faster).
      const versus =
        r.variant === 'ours'
          ? Object.entries(q)
              .map(([v, x]) => `${x.toFixed(2)}× ${v}`)
              .join(', ')
          : '';
      const m = metric(c, r);
      const cells = [
        c.kernel,
        c.size,
        r.variant,
        r.medianMs.toFixed(3),
        `${r.minMs.toFixed(3)}–${r.maxMs.toFixed(3)}`,
        formatMetric(m),
        c.bytes && !c.dispatches ? r.gbps.toFixed(2) : '–',
        share ? `${share.percent.toFixed(1)}% ${share.of}` : '–',
        versus,
      ];
      for (const v of cells) row.insertCell().textContent = v;
      row.dataset.variant = r.variant;
      row.dataset.metric = String(m.value);
      row.dataset.unit = m.unit;
    }
    // A peer whose output disagreed with ours is shown as wrong, with no time.
    for (const w of c.wrong ?? []) {
      const row = body.insertRow();
      row.className = 'wrong';
      row.dataset.variant = w.variant;
      const text = `wrong output: max |Δ| ${w.maxError.toExponential(2)} of the largest reference value (tolerance ${w.tolerance.toExponential(0)}); not timed`;
      for (const v of [c.kernel, c.size, w.variant, text]) row.insertCell().textContent = v;
      row.cells[3].colSpan = 6;
    }
  }
}

async function runAll(): Promise<void> {
  if (running) return; // already running: a double click starts nothing
  const controller = new AbortController();
  running = controller;
  setRunning(true);
  document.body.dataset.state = 'running';
  const progress0 = $('progress') as HTMLProgressElement;
  progress0.removeAttribute('value'); // indeterminate until the first case reports
  status(rates ? 'Starting…' : 'Waiting for the adapter calibration to finish, then starting…');
  try {
    await calibration;
    if (state.tfjs && !tf) tf = await startTfjs(engine).catch(() => null);
    const picked = suites.filter((s) => chosen[s.name]);
    if (state.ort && !ort && picked.some((s) => s.name === 'ort' || s.name === 'bert'))
      ort = await startOrt({ subgroups: params.get('ortSubgroups') !== '0' }).catch((e) => {
        status(`onnxruntime-web did not start: ${(e as Error).message}`, true);
        return null;
      });
    const progress = $('progress') as HTMLProgressElement;
    const models = params.get('models') ?? undefined;
    const cases = await runSuites({ engine, tf: state.tfjs ? tf : null, ort: state.ort ? ort : null, quick: state.quick, models }, picked, {
      warmup: 1,
      reps: state.reps,
      sizes: params.get('sizes')?.split(','),
      signal: controller.signal,
      onProgress: (done, total, label) => {
        progress.max = total;
        progress.value = done;
        status(`${done}/${total} ${label}${done === 0 ? ' (the first case compiles its kernels)' : ''}`);
      },
    });
    const stopped = controller.signal.aborted;
    const run: Exported = {
      adapter: engine.adapter,
      runtime: navigator.userAgent,
      date: new Date().toISOString(),
      features: engine.features,
      cases,
    };
    // A stopped run is partial: the previous full run, where there is one, stays on the page (and in export).
    const kept = stopped && current && !current.partial ? current : null;
    if (!kept) current = stopped ? { ...run, partial: true } : run;
    (window as unknown as { benchResults: Exported }).benchResults = current!;
    render();
    const skipped = cases.flatMap((c) => c.skipped.map((s) => `${c.kernel} ${c.size} ${s.variant}: ${s.reason}`));
    const wrong = cases.flatMap((c) => (c.wrong ?? []).map((w) => `${c.kernel} ${c.size} ${w.variant}`));
    const shown = kept
      ? ` The charts and table still show the previous full run (${kept.cases.length} cases, ${new Date(kept.date).toLocaleTimeString()}).`
      : stopped
        ? ' The charts and table show these cases only.'
        : '';
    status(
      `${stopped ? 'Stopped' : 'Done'}: ${cases.length} cases.${shown}${wrong.length ? ` Wrong output, not timed: ${wrong.join('; ')}.` : ''}${skipped.length ? ` Skipped: ${skipped.join('; ')}` : ''}`,
    );
    document.body.dataset.state = stopped ? 'stopped' : 'done';
  } catch (e) {
    status(`Failed: ${(e as Error).message}`, true);
    document.body.dataset.state = 'error';
  } finally {
    running = null;
    setRunning(false);
  }
}

async function tune(): Promise<void> {
  if (running) return; // a run or a tuning is in progress: a second click starts nothing
  const controller = new AbortController();
  running = controller;
  setRunning(true);
  document.body.dataset.state = 'tuning';
  try {
    const { table, results } = await autotune(engine, {
      quick: state.quick,
      signal: controller.signal,
      onProgress: (l) => status(`tuning ${l}`),
    });
    localStorage.setItem(tuningKey(engine.adapter), JSON.stringify(table));
    engine.dispose();
    engine = await makeEngine(table);
    tf = null;
    status(
      `Tuned and saved for this adapter: ${results.map((r) => `${r.key} ${r.speedup.toFixed(2)}× (${JSON.stringify(r.best)})`).join('; ')}`,
    );
    document.body.dataset.state = 'tuned';
  } catch (e) {
    if (controller.signal.aborted) {
      status('Autotune stopped: nothing saved, the engine keeps its tiles.');
      document.body.dataset.state = 'stopped';
    } else {
      status(`Autotune failed: ${(e as Error).message}`, true);
      document.body.dataset.state = 'error';
    }
  } finally {
    running = null;
    setRunning(false);
  }
}

function exportJson(): void {
  if (!current) {
    status('Run the suites first.', true);
    return;
  }
  const blob = new Blob([JSON.stringify(current, null, 2)], { type: 'application/json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  const name =
    [a.vendor, a.architecture, a.device]
      .filter(Boolean)
      .join('-')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-') || 'gpu';
  link.download = `${name}.json`;
  link.id = 'export';
  link.click();
}

function pickFiles(): void {
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = 'application/json,.json';
  input.multiple = true;
  input.onchange = async () => {
    for (const f of input.files ?? []) {
      try {
        const data = JSON.parse(await f.text()) as Exported;
        if (!Array.isArray(data.cases)) throw new Error('no "cases" array');
        loaded.push({ ...data, file: f.name });
      } catch (e) {
        status(`${f.name} is not an exported result: ${(e as Error).message}`, true);
      }
    }
    render();
  };
  input.click();
}

showEstimate();
// Runs wait for it, so the calibration never shares the GPU with a measured case.
const calibration = calibrate({ engine, tf: null, quick: true })
  .then((r) => {
    rates = r;
    showEstimate();
  })
  .catch((e) => {
    $('estimate').textContent = `No estimate: ${(e as Error).message}`;
  });
if (params.get('autorun') === '1') void runAll();
