// Global setup of the 'browser' project: the local model server of tests/helpers/model-server.ts with
// the fixtures of tests/helpers/app-fixtures.ts, its address provided to the tests as 'modelServer'.
import type { TestProject } from 'vitest/node';
import { appFixtureFiles } from '../helpers/app-fixtures';
import { startModelServer } from '../helpers/model-server';

declare module 'vitest' {
  export interface ProvidedContext {
    modelServer: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startModelServer(appFixtureFiles());
  project.provide('modelServer', server.url);
  return () => server.close();
}
