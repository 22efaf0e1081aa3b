// Every suite, in the order the CLI and the page list them.
import { matmulSuite } from './matmul';
import { schedulerSuite } from './scheduler';
import type { Suite } from './types';

export const suites: Suite[] = [matmulSuite, schedulerSuite];
