// webgpu-nlp: the public API.
export { Engine } from './engine';
export { GPUContext } from './gpu/engine';
export type { EngineOptions, AdapterSummary, EngineFeatures, DeviceLostInfo, EngineStats } from './gpu/engine';
export {
  WebGPUNLPError,
  ShapeError,
  ArgumentError,
  LimitError,
  UnsupportedError,
  DisposedError,
  BusyError,
  GraphError,
  FormatError,
  NumericError,
  GPUOpError,
  DeviceLostError,
} from './errors';
export { Tensor, numel } from './gpu/tensor';
export type { DType, AnyTypedArray } from './gpu/tensor';
export { Graph, SymbolicTensor } from './graph/graph';
export { Plan } from './graph/plan';
export type { CompileOptions, Feeds, PlanMemory, PlanProfile, DispatchTiming } from './graph/plan';
export { registerOp, getOp, listOps, shaderFor } from './ops/registry';
export type { OpAttrs, OpName } from './ops/registry';
export type { OpDescriptor, KernelCall, KernelContext, ShaderVariant, TensorInfo, TuningTable, ScalarRef } from './ops/types';
export { SOFTMAX_WG } from './ops/softmax';
export { attentionCandidates, attentionKey } from './ops/attention';
export { matmulCandidates, gemvCandidates } from './ops/matmul';
export { SAMPLE_NONE, SAMPLE_WG, type TokenCandidate } from './ops/sample';
export { reflectShader, packUniform } from './wgsl/reflect';
export type { ReflectedShader, ReflectedEntry, UniformLayout } from './wgsl/reflect';
export { GPT2, GPT2_SMALL } from './models/gpt2';
export { randomGPT2Checkpoint } from './models/gpt2_random';
export type { GPT2Config, GPT2Options, GPT2Weights, GenerateOptions, GenerationStats, AttentionSpec } from './models/gpt2';
export { GPT2Tokenizer } from './models/tokenizer';
export { Llama, resolveLlamaConfig, ggufConfig, ropeAttentionFactor, ropeInvFreq } from './models/llama';
export type { LlamaConfig, LlamaOptions, ResolvedLlamaConfig, RopeScaling } from './models/llama';
export type { AdapterInfo, LoadAdapterOptions, LoraConfig } from './models/lora';
export { Encoder, ENCODER_TYPES, tokenBucket } from './models/encoder';
export type { EncoderConfig, EncoderOptions, EncoderBatch, EmbedOptions } from './models/encoder';
export { bestSpan, groupEntities, pool, sentenceTransformersOptions } from './models/encoder-tasks';
export { SemanticIndex } from './models/semantic-index';
export { loadEncoderFolder } from './models/encoder-folder';
export type { EncoderFolder, FolderFile } from './models/encoder-folder';
export { randomBertCheckpoint } from './models/encoder_random';
export type { IndexBuildOptions } from './models/semantic-index';
export type { TokenEntity, Pooling } from './models/encoder-tasks';
export { TextTokenizer, TokenizerError, ggufTokenizerJSON } from './models/text-tokenizer';
export type { ChatMessage } from './models/text-tokenizer';
export { ChatSession, ChatCompletions } from './models/chat';
export type {
  ChatOptions,
  ChatSendOptions,
  ChatTurn,
  ChatTokenizer,
  ChatModel,
  ContextPolicy,
  FinishReason,
  ChatCompletionRequest,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionUsage,
} from './models/chat';
export { Decoder, prefillBucket, MIN_PREFILL_BUCKET } from './models/decoder';
export type { WarmupOptions, WarmupResult } from './models/decoder';
export { SafetensorsFile, SafetensorsError, f16ToF32 } from './io/safetensors';
export type { SafetensorsEntry, SafetensorsDType } from './io/safetensors';
export { QuantizedTensor, quantizeCPU, dequantize, quantLayout } from './ops/quantize';
export type { QuantizeOptions } from './graph/quantize';
export type { QuantScheme, QuantizedData, QuantLayout } from './ops/quantize';
export { Word2Vec, UnknownWordError } from './models/word2vec';
export type { Neighbour } from './models/word2vec';
export { parseWord2VecBinary, parseWord2VecText, parseGloVe, WordVectorFormatError } from './io/word2vec';
export type { WordVectors, WordVectorOptions } from './io/word2vec';
export { LSTM } from './models/lstm';
export type { LSTMConfig } from './models/lstm';
export { pca } from './models/pca';
export type { PCAResult } from './models/pca';
export {
  slidingLayout,
  stridedLayout,
  globalLayout,
  randomLayout,
  maskLayout,
  unionLayout,
  layoutFrom,
  checkLayout,
} from './ops/sparse_layout';
export type { BlockLayout, BlockSize, LayoutOptions } from './ops/sparse_layout';
export { GGUFFile, GGUFError } from './io/gguf';
export type { GGUFTensor, GGUFValue } from './io/gguf';
export * from './app/index';
