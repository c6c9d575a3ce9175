import { evaluateSubmitted } from '../shared/margin/evaluate.ts';
import { evaluationToJson } from '../shared/margin/serialize.ts';
import type { ModelName } from '../shared/schemas/account.ts';
import { formatEvaluationTable } from './format-evaluation.ts';
import { readJsonFile } from './io.ts';

export interface EvaluateArgs {
  file: string;
  model?: string;
  format: 'json' | 'table';
}

export function runEvaluate(args: EvaluateArgs): string {
  const evaluation = evaluationToJson(
    evaluateSubmitted(readJsonFile(args.file), { model: args.model as ModelName | undefined }),
  );
  return args.format === 'table' ? formatEvaluationTable(evaluation) : JSON.stringify(evaluation, null, 2);
}
