// Error types raised by the engine. Every message names the op, the shapes or the limit involved,
// so a caller can tell what went wrong without reading the engine's source.

/** A wrong shape, dtype or argument, detected before any GPU work is submitted. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A request beyond what the device allows (binding size, buffer size, workgroup storage). */
export class LimitError extends Error {
  override name = 'LimitError';
}

/** A validation, out-of-memory or shader compilation error reported by WebGPU. */
export class GPUOpError extends Error {
  override name = 'GPUOpError';
  constructor(
    readonly label: string,
    readonly kind: 'validation' | 'out-of-memory' | 'internal' | 'compilation',
    message: string,
  ) {
    super(`${label}: WebGPU ${kind} error: ${message}`);
  }
}

/** The device was lost (driver reset, destroy(), tab in background too long). Create a new Engine. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
