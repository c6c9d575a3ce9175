import { readFileSync } from 'node:fs';
import { InputError } from '../shared/errors.ts';

/** Reads a JSON file; unreadable or malformed files are input errors naming the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw InputError.single(path, `cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw InputError.single(path, `invalid JSON: ${(e as Error).message}`);
  }
}
