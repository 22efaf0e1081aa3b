// A worker of tests/browser/app-load.test.ts whose engine frees the current model only once a new one
// has loaded (replace: 'after-load'), as the BERT page's does.
import { exposeEngine } from '../../src/index';

exposeEngine(self, { replace: 'after-load' });
