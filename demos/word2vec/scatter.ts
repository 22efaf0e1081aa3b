// A labelled 2-D scatter plot on a canvas, with wheel zoom, drag to pan and hover details.

export interface Point {
  label: string;
  x: number;
  y: number;
}

export function drawScatter(canvas: HTMLCanvasElement, tooltip: HTMLElement, points: Point[]): void {
  const view = { scale: 1, dx: 0, dy: 0 };
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth;
  const H = canvas.clientHeight;
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  const ctx = canvas.getContext('2d')!;
  const toScreen = (p: Point) => {
    const sx = 40 + ((p.x - x0) / (x1 - x0 || 1)) * (W - 80);
    const sy = H - 30 - ((p.y - y0) / (y1 - y0 || 1)) * (H - 60);
    return [(sx - W / 2) * view.scale + W / 2 + view.dx, (sy - H / 2) * view.scale + H / 2 + view.dy];
  };
  const draw = () => {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = '13px system-ui, sans-serif';
    for (const p of points) {
      const [sx, sy] = toScreen(p);
      ctx.fillStyle = '#2a7';
      ctx.beginPath();
      ctx.arc(sx, sy, 4, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = getComputedStyle(canvas).color || '#333';
      ctx.fillText(p.label, sx + 6, sy - 6);
    }
  };
  canvas.onwheel = (e) => {
    e.preventDefault();
    view.scale *= e.deltaY < 0 ? 1.15 : 1 / 1.15;
    draw();
  };
  let drag: [number, number] | null = null;
  canvas.onmousedown = (e) => (drag = [e.clientX, e.clientY]);
  window.onmouseup = () => (drag = null);
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
      tooltip.textContent = `${hit.label}  (${hit.x.toFixed(2)}, ${hit.y.toFixed(2)})`;
      tooltip.style.left = `${e.clientX + 12}px`;
      tooltip.style.top = `${e.clientY + 12}px`;
    }
  };
  draw();
}
