// The GPT page's pure view helpers: readable token text, and the attention map's views (the labelled
// view of the newest tokens, zoom kept inside the map).
import { describe, expect, it } from 'vitest';
import { LABEL_ROW, labelledView, readable, zoom } from '../../demos/gpt/views';

describe('GPT page views', () => {
  it('readable() shows spaces, new lines and tabs, and an empty token', () => {
    expect(readable(' the\n\tend')).toBe('·the↵→end');
    expect(readable('')).toBe('∅');
  });

  it('labelledView() shows the newest tokens at rows of at least LABEL_ROW px, or all of a short text', () => {
    const v = labelledView(121, 640);
    expect(v.q0 + v.n).toBe(121);
    expect(v.k0).toBe(v.q0);
    expect((640 - 88) / v.n).toBeGreaterThanOrEqual(LABEL_ROW);
    expect(labelledView(7, 640)).toEqual({ q0: 0, k0: 0, n: 7 });
  });

  it('zoom() halves or doubles the window around a point and keeps it inside the map', () => {
    const all = { q0: 0, k0: 0, n: 101 };
    const inner = zoom(all, 101, 0.5, 90, 10);
    expect(inner.n).toBe(51);
    expect(inner.q0 + inner.n).toBeLessThanOrEqual(101);
    expect(inner.k0).toBe(0);
    expect(zoom(inner, 101, 4)).toEqual(all);
    expect(zoom({ q0: 0, k0: 0, n: 5 }, 101, 0.1).n).toBe(4); // never below 4 tokens
  });
});
