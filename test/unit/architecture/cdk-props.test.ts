/**
 * CDK construct props (issue 23): every member readonly, every optional one documented with its @default,
 * read from the source with the TypeScript compiler's own parser.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

/** `file: Interface.member: problem` for each props member that is not readonly or lacks a @default. */
export function propsProblems(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const problems: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text.endsWith('Props')) {
      for (const member of node.members) {
        if (!ts.isPropertySignature(member)) continue;
        const name = `${file}: ${node.name.text}.${member.name.getText(source)}`;
        if (!member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword))
          problems.push(`${name}: not readonly`);
        if (member.questionToken && !ts.getJSDocTags(member).some((t) => t.tagName.text === 'default'))
          problems.push(`${name}: optional without @default`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

describe('CDK construct props', () => {
  it('are readonly, and every optional one says its @default', () => {
    const files = [
      ...readdirSync(join(root, 'infra', 'constructs')).map((f) => join('infra', 'constructs', f)),
      join('infra', 'stack.ts'),
    ].filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    expect(files.flatMap((f) => propsProblems(f, readFileSync(join(root, f), 'utf8')))).toEqual([]);
  });

  it('the check itself: a mutable member and an undocumented optional one are each named', () => {
    const text = `export interface DemoProps {
      readonly a: string;
      b: string;
      /** @default 3 */ readonly c?: number;
      readonly d?: number;
    }`;
    expect(propsProblems('demo.ts', text)).toEqual([
      'demo.ts: DemoProps.b: not readonly',
      'demo.ts: DemoProps.d: optional without @default',
    ]);
  });
});
