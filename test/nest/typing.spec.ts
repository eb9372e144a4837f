import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));

describe('@OnGatewayEvent typing: the payload type follows the event', () => {
  it('accepts matching handlers and rejects mismatched ones (every @ts-expect-error used)', () => {
    const root = join(here, '..', '..');
    const configPath = join(root, 'tsconfig.json');
    const { config } = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
    const fixture = join(here, 'app', 'typing', 'handler-types.fixture.ts');
    const program = ts.createProgram([fixture], { ...options, noEmit: true });
    const diagnostics = ts
      .getPreEmitDiagnostics(program, program.getSourceFile(fixture))
      .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 60_000);
});
