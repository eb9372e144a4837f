import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** A rule ID of the protocol notes, as `GW-HB-4`: nothing a user reading a log can look up. */
const RULE_ID = /GW-[A-Z]+-\d+/;

/** Every string a file's code can print: literals and the text parts of templates. */
function printableStrings(file: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push({ line: line + 1, text: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('log lines and error texts', () => {
  it('cite no internal rule ID (lib/ and the sample)', () => {
    const offenders = ['lib', 'sample'].flatMap((dir) =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile() && /\.c?ts$/.test(entry.name))
        .map((entry) => join(entry.parentPath, entry.name))
        .flatMap((file) =>
          printableStrings(file)
            .filter(({ text }) => RULE_ID.test(text))
            .map(({ line, text }) => `${file}:${line}: ${text}`),
        ),
    );
    expect(offenders).toEqual([]);
  });
});
