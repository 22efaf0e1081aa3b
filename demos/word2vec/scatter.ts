// A labelled 2-D scatter plot on a canvas: the wheel zooms about the cursor, a drag pans, hover shows
// a point's word and coordinates, and `reset()` goes back to the whole map. Labels are placed so
// they never overlap one another: each tries eight spots around its point and is left off (shown on
// hover) when none is free. Axes carry the share of variance each principal component holds.

export interface Point {
  label: string;
  x: number;
  y: number;
}

export interface ScatterView {
  /** Back to the whole map (scale 1, no pan). */
  reset(): void;
  /** Labels drawn in the last frame (the rest collide and show on hover). */
  readonly shownLabels: number;
}

const PAD = { left: 46, right: 20, top: 16, bottom: 40 };

type Box = [number, number, number, number]; // x0, y0, x1, y1

const overlaps = (a: Box, b: Box) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

export function drawScatter(canvas: HTMLCanvasElement, tooltip: HTMLElement, points: Point[], explained: [number, number]): ScatterView {
  const view = { scale: 1, dx: 0, dy: 0 };
  let shown = 0;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth;
  const H = canvas.clientHeight;
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  const ctx = canvas.getContext('2d')!;
  // Data → plot coordinates at scale 1, then the view's zoom and pan.
  const base = (p: Point): [number, number] => [
    PAD.left + ((p.x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right),
    H - PAD.bottom - ((p.y - y0) / (y1 - y0 || 1)) * (H - PAD.top - PAD.bottom),
  ];
  const toScreen = (p: Point): [number, number] => {
    const [bx, by] = base(p);
    return [bx * view.scale + view.dx, by * view.scale + view.dy];
  };
  const draw = () => {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const ink = getComputedStyle(canvas).color || '#333';
    // Axes: the first two principal components and the variance each holds.
    ctx.strokeStyle = '#8888';
    ctx.beginPath();
    ctx.moveTo(PAD.left - 8, H - PAD.bottom + 8);
    ctx.lineTo(W - PAD.right, H - PAD.bottom + 8);
    ctx.moveTo(PAD.left - 8, H - PAD.bottom + 8);
    ctx.lineTo(PAD.left - 8, PAD.top);
    ctx.stroke();
    ctx.fillStyle = ink;
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillText(`PC1 → ${(100 * explained[0]).toFixed(0)}% of the variance`, PAD.left, H - 12);
    ctx.save();
    ctx.translate(16, H - PAD.bottom);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(`PC2 → ${(100 * explained[1]).toFixed(0)}%`, 0, 0);
    ctx.restore();
    ctx.save();
    ctx.beginPath();
    ctx.rect(PAD.left - 8, 0, W - PAD.left + 8, H - PAD.bottom + 8);
    ctx.clip();
    ctx.font = '13px system-ui, sans-serif';
    const screen = points.map(toScreen);
    // Dots first; their boxes also keep labels off other points.
    const taken: Box[] = screen.map(([sx, sy]) => [sx - 4, sy - 4, sx + 4, sy + 4]);
    ctx.fillStyle = '#2a7';
    for (const [sx, sy] of screen) {
      ctx.beginPath();
      ctx.arc(sx, sy, 4, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.fillStyle = ink;
    shown = 0;
    const h = 13;
    for (const [i, p] of points.entries()) {
      const [sx, sy] = screen[i];
      const w = ctx.measureText(p.label).width;
      // Right, left, above, below, then the four diagonals.
      const spots: [number, number][] = [
        [sx + 6, sy + 4],
        [sx - 6 - w, sy + 4],
        [sx - w / 2, sy - 7],
        [sx - w / 2, sy + 7 + h],
        [sx + 5, sy - 5],
        [sx - 5 - w, sy - 5],
        [sx + 5, sy + 5 + h],
        [sx - 5 - w, sy + 5 + h],
      ];
      for (const [lx, ly] of spots) {
        const box: Box = [lx, ly - h + 2, lx + w, ly + 2];
        const inside = box[0] >= PAD.left - 8 && box[2] <= W && box[1] >= 0 && box[3] <= H - PAD.bottom + 8;
        if (!inside || taken.some((t) => overlaps(t, box))) continue;
        taken.push(box);
        ctx.fillText(p.label, lx, ly);
        shown++;
        break;
      }
    }
    ctx.restore();
    canvas.dataset.labels = String(shown);
    canvas.dataset.scale = view.scale.toFixed(3);
  };
  // Zoom about the cursor: the plot point under it stays under it.
  canvas.onwheel = (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const [mx, my] = [e.clientX - r.left, e.clientY - r.top];
    const f = e.deltaY < 0 ? 1.15 : 1 / 1.15;
    view.dx = mx - (mx - view.dx) * f;
    view.dy = my - (my - view.dy) * f;
    view.scale *= f;
    draw();
  };
  let drag: [number, number] | null = null;
  canvas.onmousedown = (e) => (drag = [e.clientX, e.clientY]);
  window.onmouseup = () => (drag = null);
  canvas.onmouseleave = () => (tooltip.style.display = 'none');
  canvas.onmousemove = (e) => {
    if (drag) {
      view.dx += e.clientX - drag[0];
      view.dy += e.clientY - drag[1];
      drag = [e.clientX, e.clientY];
      draw();
    }
    const r = canvas.getBoundingClientRect();
    const hit = points.find((p) => {
      const [sx, sy] = toScreen(p);
      return Math.hypot(sx - (e.clientX - r.left), sy - (e.clientY - r.top)) < 7;
    });
    tooltip.style.display = hit ? 'block' : 'none';
    if (hit) {
      tooltip.textContent = `${hit.label}  (PC1 ${hit.x.toFixed(2)}, PC2 ${hit.y.toFixed(2)})`;
      tooltip.style.left = `${e.clientX + 12}px`;
      tooltip.style.top = `${e.clientY + 12}px`;
    }
  };
  draw();
  return {
    reset() {
      Object.assign(view, { scale: 1, dx: 0, dy: 0 });
      draw();
    },
    get shownLabels() {
      return shown;
    },
  };
}
