// Entry of the in-host tests: VS Code's extension host loads this file (extensionTestsPath) and
// awaits `run()`; a rejection becomes a non-zero code through codeAutomationExit. Bundled by
// test/e2e/extension-host.test.ts with esbuild; `vscode` and `mocha` stay external.
import Mocha from 'mocha';
import { registerActivationSpecs } from './activation.spec';
import { registerLanguageSpecs } from './language.spec';
import { registerStackSpecs } from './stacks.spec';

/** Spec modules register their suites in a function, called once Mocha's globals exist. */
const specs: Array<() => void> = [registerActivationSpecs, registerLanguageSpecs, registerStackSpecs];

export async function run(): Promise<void> {
  const grep = process.env.FIELDTRACE_E2E_GREP;
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', grep });
  mocha.suite.emit('pre-require', globalThis, 'fieldtrace-e2e', mocha);
  for (const register of specs) register();
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} in-host test(s) failed`);
}
