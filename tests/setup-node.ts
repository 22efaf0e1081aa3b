// Node test setup: Dawn's GPU object (the `webgpu` package) stands in for navigator.gpu.
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
(globalThis as { __webgpuNlpGPU?: GPU }).__webgpuNlpGPU = create(['backend=vulkan']);
