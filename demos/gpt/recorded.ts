// What the page produces for its default prompt, recorded by tools/record_gpt_example.ts (the bundled
// tiny Llama in Node), shown labelled as a recorded example in a browser without WebGPU.
import type { Recorded } from '../common/page';
import data from './recorded.json';
import { drawCandidates, drawTokens } from './views';

export const recorded: Recorded = {
  caption:
    `the ${data.model} continuing “${data.prompt}” (${data.sampling.maxNewTokens} tokens, temperature ${data.sampling.temperature}, ` +
    `top-k ${data.sampling.topK}, top-p ${data.sampling.topP}, seed ${data.sampling.seed}; on ${data.adapter}, ${(data.wallMs / 1000).toFixed(0)} s with compiling)`,
  render() {
    const box = document.createElement('div');
    const text = document.createElement('pre');
    text.append(Object.assign(document.createElement('b'), { textContent: data.prompt }), data.text);
    const tokens = document.createElement('ol');
    tokens.className = 'tokens';
    drawTokens(
      tokens,
      data.tokens.map((t) => ({ ...t, special: false })),
    );
    const first = data.steps[0];
    const chosen = first.candidates.find((c) => c.text === first.chosen);
    const table = document.createElement('table');
    table.id = 'recorded-candidates';
    drawCandidates(table, { chosen: chosen?.id ?? -1, text: first.chosen, candidates: first.candidates });
    const p = (t: string) => Object.assign(document.createElement('p'), { textContent: t, className: 'small' });
    const drawn = chosen ? '' : ', not among these five: the draw can pick from the tail that top-k and top-p keep';
    box.append(
      text,
      p('The prompt as tokens (text and id):'),
      tokens,
      p(`The first step's likeliest next tokens (the model drew “${first.chosen}”${drawn}):`),
      table,
    );
    return box;
  },
};
