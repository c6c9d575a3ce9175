import type { Reporter } from 'vitest/reporters';

type Task = { type: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

function count(tasks: readonly Task[], totals: { passed: number; failed: number; skipped: number }) {
  for (const task of tasks) {
    if (task.tasks) {
      // A file or suite that failed to load has no tests but is a failure.
      if (task.result?.state === 'fail' && task.tasks.length === 0) totals.failed += 1;
      count(task.tasks, totals);
    } else if (task.type === 'test') {
      if (task.result?.state === 'pass') totals.passed += 1;
      else if (task.result?.state === 'fail') totals.failed += 1;
      else totals.skipped += 1;
    }
  }
}

/** Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own summary. */
export default class SummaryReporter implements Reporter {
  onFinished(files: readonly Task[] = [], errors: readonly unknown[] = []): void {
    const totals = { passed: 0, failed: errors.length, skipped: 0 };
    count(files, totals);
    process.on('exit', () => {
      process.stdout.write(
        `\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
      );
    });
  }
}
