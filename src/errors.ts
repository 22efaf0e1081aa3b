// Every error the library throws extends WebGPUNLPError, so an app can catch "anything from this
// engine" with one instanceof and still tell the kinds apart. Every message names the op or reader,
// the shapes or offsets, and the limit involved, so a caller can tell what went wrong without reading
// the engine's source.
//
//   WebGPUNLPError
//   ├── ShapeError          a wrong shape or dtype, found before any GPU work
//   ├── ArgumentError       a wrong option or value (generation options, scalars, states, quantize)
//   ├── LimitError          beyond what this device allows (binding size, workgroup storage, budget)
//   ├── UnsupportedError    beyond what a kernel or format supports (head dim, GGUF type, architecture)
//   ├── DisposedError       an engine, plan, tensor or model used after dispose()
//   ├── BusyError           a call that would overlap another on the same model state
//   ├── GraphError          a graph that cannot be scheduled (cycles, writes to non-states)
//   ├── FormatError         a file that is not what it claims (SafetensorsError, GGUFError,
//   │                       WordVectorFormatError, TokenizerError extend it)
//   ├── NumericError        a model produced NaN or infinite values where a result must be finite
//   ├── DeviceLostError     the GPU device was lost; create a new Engine
//   └── GPUOpError          WebGPU reported a validation, out-of-memory or compilation error

/** The base of every error this library throws. */
export class WebGPUNLPError extends Error {
  override name = 'WebGPUNLPError';
}

/** A wrong shape, dtype or tensor argument, detected before any GPU work is submitted. */
export class ShapeError extends WebGPUNLPError {
  override name = 'ShapeError';
}

/** A wrong option or value: a generation option out of range, a scalar that would index past a state. */
export class ArgumentError extends WebGPUNLPError {
  override name = 'ArgumentError';
}

/** A request beyond what the device allows (binding size, buffer size, workgroup storage, budget). */
export class LimitError extends WebGPUNLPError {
  override name = 'LimitError';
}

/** Beyond what a kernel or format supports (a head dimension, a tensor type, an architecture). */
export class UnsupportedError extends WebGPUNLPError {
  override name = 'UnsupportedError';
}

/** An object used after its dispose() (or after its engine's). */
export class DisposedError extends WebGPUNLPError {
  override name = 'DisposedError';
}

/** A call refused because another one on the same state (a model's KV cache) has not finished. */
export class BusyError extends WebGPUNLPError {
  override name = 'BusyError';
}

/** A graph the scheduler cannot order or plan. */
export class GraphError extends WebGPUNLPError {
  override name = 'GraphError';
}

/** A file that is not what it claims to be; each reader's own error extends it. */
export class FormatError extends WebGPUNLPError {
  override name = 'FormatError';
}

/** A tokenizer (tokenizer.json, tokenizer_config.json, a GGUF vocabulary) that is missing or cannot be read or run. */
export class TokenizerError extends FormatError {
  override name = 'TokenizerError';
}

/** A model produced NaN or infinite values where a result must be finite (e.g. no token to sample). */
export class NumericError extends WebGPUNLPError {
  override name = 'NumericError';
}

/** A validation, out-of-memory or shader compilation error reported by WebGPU. */
export class GPUOpError extends WebGPUNLPError {
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
export class DeviceLostError extends WebGPUNLPError {
  override name = 'DeviceLostError';
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
