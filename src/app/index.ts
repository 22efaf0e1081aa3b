// The app-level API: loadModel (any source, progress, cache, cancel) and the same engine in a worker.
export { loadModel, CharTokenizer } from './load';
export type { LoadOptions, LoadProgress, LoadedModel, ModelInfo, Tokenizer, AnyTokenizer } from './load';
export { listCached, deleteCached, downloadFile, DownloadError, CACHE_NAME } from './download';
export type { CacheOption, CachedFile, FileProgress } from './download';
export type { ModelSource, NamedBytes } from './sources';
export { createWorkerEngine, exposeEngine } from './worker';
export type {
  WorkerEngine,
  WorkerChat,
  WorkerGenerateOptions,
  WorkerLoadOptions,
  GeneratedToken,
  ExposeOptions,
  MethodContext,
  CallOptions,
} from './worker';
