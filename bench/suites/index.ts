// Every suite, in the order the CLI and the page list them.
import { attentionSuite } from './attention';
import { bertSuite } from './bert';
import { gpt2Suite } from './gpt2';
import { int8Suite } from './int8';
import { llamaSuite } from './llama';
import { kernelsSuite } from './kernels';
import { matmulSuite } from './matmul';
import { ortSuite } from './ort';
import { schedulerSuite } from './scheduler';
import { sparseSuite } from './sparse';
import type { Suite } from './types';

export const suites: Suite[] = [
  matmulSuite,
  schedulerSuite,
  attentionSuite,
  gpt2Suite,
  llamaSuite,
  bertSuite,
  int8Suite,
  sparseSuite,
  kernelsSuite,
  ortSuite,
];
