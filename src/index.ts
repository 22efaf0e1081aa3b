// webgpu-nlp: the public API.
export { Engine } from './gpu/engine';
export type { EngineOptions, AdapterSummary, EngineFeatures, DeviceLostInfo, EngineStats } from './gpu/engine';
export { ShapeError, LimitError, GPUOpError, DeviceLostError } from './gpu/errors';
export { Tensor, numel } from './tensor';
export type { DType, AnyTypedArray } from './tensor';
export { Graph, SymbolicTensor } from './graph/graph';
export { Plan } from './graph/plan';
export type { CompileOptions, Feeds, PlanMemory, PlanProfile, DispatchTiming } from './graph/plan';
export { GraphError } from './graph/schedule';
export { registerOp, getOp, listOps } from './ops/registry';
export type { OpDescriptor, KernelCall, KernelContext, TensorInfo, TuningTable, ScalarRef } from './ops/types';
export { reflectShader, packUniform } from './ops/reflect';
export type { ReflectedShader, ReflectedEntry, UniformLayout } from './ops/reflect';
export { GPT2, GPT2_SMALL } from './models/gpt2';
export type { GPT2Config, GPT2Options, GenerateOptions, GenerationStats } from './models/gpt2';
export { GPT2Tokenizer } from './models/tokenizer';
export { SafetensorsFile, SafetensorsError, f16ToF32 } from './io/safetensors';
export type { SafetensorsEntry, SafetensorsDType } from './io/safetensors';
