import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * The engine runs inside the per-call workflow: it must bundle for Temporal's sandbox (no Node built-ins, no RE2).
 * The bundler refuses a workflow whose imports reach a Node module, so this test fails if engine.ts, or anything it
 * imports, ever does.
 */
describe('the dialog engine in the workflow bundle', () => {
  it('bundles with the Temporal workflow bundler', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waihu-engine-bundle-'));
    try {
      const workflowsPath = join(dir, 'workflows.ts');
      const engine = join(__dirname, 'engine').replace(/\\/g, '/');
      writeFileSync(
        workflowsPath,
        [
          `import { startDialog } from '${engine}';`,
          `import { demoScript } from '${join(__dirname, 'demo').replace(/\\/g, '/')}';`,
          'export async function dialogProbe(): Promise<number> {',
          '  return startDialog(demoScript(), {}, 0).actions.length;',
          '}',
        ].join('\n'),
      );
      const bundle = await bundleWorkflowCode({
        workflowsPath,
        logger: quietLogger,
        // The probe lives in a temporary directory: resolve packages from this checkout.
        webpackConfigHook: (config) => {
          config.resolve = {
            ...config.resolve,
            modules: [...(config.resolve?.modules ?? ['node_modules']), nodeModules],
          };
          return config;
        },
      });
      expect(bundle.code).toContain('dialogProbe');
      expect(bundle.code).not.toMatch(/require\(["']re2["']\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const nodeModules = join(__dirname, '..', '..', 'node_modules');
const noop = (): void => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
