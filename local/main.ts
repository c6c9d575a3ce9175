/**
 * `npm start`: the whole system locally. DynamoDB Local starts (and always stops), the tables are created
 * from the deployed definitions, sample books are seeded, and a real market crash is replayed through the
 * real handlers and state machine. Prints a live timeline; writes out/report.html, out/events.jsonl,
 * out/notifications.jsonl (redacted), out/dead-letters.jsonl and out/outbox.jsonl.
 *
 * The operator console is served on http://127.0.0.1:8080/ (dashboard, REST routes, live channels)
 * during the replay and, in a terminal, after it until Ctrl-C. Run non-interactively (CI, a pipe) it
 * exits after the replay unless --serve is given; --no-serve skips the console altogether.
 *
 *   npm start -- [--scenario FILE.json] [--prices PRICES.csv] [--out DIR] [--from DATE] [--to DATE] [--quiet]
 *                [--port 8080] [--pace MS_PER_BAR] [--serve | --no-serve]
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../shared/errors.ts';
import { parsePricesCsv } from '../shared/replay/prices-csv.ts';
import { JavaMissingError } from './dynamodb-local.ts';
import { startConsoleServer, type ConsoleServer } from './console-server.ts';
import { startLocalSystem, type LocalResult, type TimelineEntry } from './local-system.ts';
import { renderReport } from './report-html.ts';
import { loadScenario } from './scenario.ts';

const ROOT = join(import.meta.dirname, '..');
const COLOURS: Partial<Record<TimelineEntry['kind'], string>> = {
  'margin-call': '31',
  liquidation: '31',
  deleverage: '33',
  page: '35',
  level: '36',
  fill: '34',
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: join(ROOT, 'local', 'scenarios', 'crash-2020.json') },
      prices: { type: 'string', default: join(ROOT, 'test', 'fixtures', 'crash-2020-ohlc.csv') },
      out: { type: 'string', default: join(ROOT, 'out') },
      from: { type: 'string' },
      to: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      port: { type: 'string', default: '8080' },
      pace: { type: 'string', default: '0' },
      serve: { type: 'boolean', default: false },
      'no-serve': { type: 'boolean', default: false },
    },
  });
  const port = Number.parseInt(values.port!, 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw InputError.single('--port', 'a TCP port (0–65535)');
  const paceMs = Number.parseInt(values.pace!, 10);
  if (!Number.isInteger(paceMs) || paceMs < 0)
    throw InputError.single('--pace', 'milliseconds per bar (≥ 0)');
  const serve = !values['no-serve'];
  const interactive = Boolean(process.stdout.isTTY && process.stdin.isTTY && !process.env.CI);
  const keepServing = serve && (values.serve || interactive);
  const scenario = loadScenario(values.scenario!);
  let text: string;
  try {
    text = readFileSync(values.prices!, 'utf8');
  } catch (e) {
    throw InputError.single(values.prices!, `cannot read prices: ${(e as Error).message}`);
  }
  const bars = parsePricesCsv(text, values.prices!).filter(
    (b) => (!values.from || b.date >= values.from) && (!values.to || b.date <= values.to),
  );
  if (bars.length === 0) throw InputError.single('--from/--to', 'no price bars in that range');
  const outDir = resolve(values.out!);
  mkdirSync(outDir, { recursive: true });
  const tty = process.stdout.isTTY && !process.env.CI;
  const colour = (kind: TimelineEntry['kind'], s: string) =>
    tty && COLOURS[kind] ? `\x1b[${COLOURS[kind]}m${s}\x1b[0m` : s;
  const clearLine = () => tty && process.stdout.write('\r\x1b[2K');

  console.log(
    `Margin Guard local mode: ${scenario.accounts.length} accounts, ${bars.length} bars ${bars[0]!.date} → ${bars[bars.length - 1]!.date}`,
  );
  console.log('starting DynamoDB Local …');
  const started = Date.now();
  const system = await startLocalSystem({
    scenario,
    bars,
    outDir,
    paceMs,
    onTimeline: (e) => {
      if (values.quiet) return;
      clearLine();
      console.log(`${e.date}  ${e.accountId.padEnd(12)} ${colour(e.kind, e.text)}`);
    },
    onBar: (i, n, date) => {
      if (tty) {
        const width = 30;
        const done = Math.round((i / n) * width);
        process.stdout.write(`\r\x1b[2K[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${i}/${n} ${date}`);
      } else if (i % 10 === 0 || i === n) console.log(`… ${i}/${n} bars (${date})`);
    },
  });
  let server: ConsoleServer | undefined;
  let result: LocalResult;
  try {
    if (serve) {
      server = await startConsoleServer(system, port);
      console.log(`operator console: ${server.url}  (development login; Ctrl-C stops)`);
    }
    result = await system.replay();
  } catch (e) {
    await server?.close();
    await system.stop();
    throw e;
  }
  clearLine();
  const report = join(outDir, 'report.html');
  writeFileSync(
    report,
    renderReport({
      title: 'Margin Guard — local replay',
      description: scenario.description,
      series: result.series,
      thresholds: result.thresholds,
      timeline: result.timeline,
      eventCounts: result.eventCounts,
    }),
  );
  const counts = Object.entries(result.eventCounts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s: ${counts}`);
  const { evaluations, bruteForce, bandCrossings, watched } = result.work;
  console.log(
    `evaluations: ${evaluations} (evaluating every account on every price update: ${bruteForce}); ${bandCrossings} band crossings, ${watched} watch-list evaluations`,
  );
  const fatigue = Object.entries(result.notifications)
    .flatMap(([account, byCategory]) =>
      Object.entries(byCategory).map(
        ([category, n]) =>
          `${account} ${category} ${n.sent}${n.suppressed ? ` (${n.suppressed} suppressed)` : ''}`,
      ),
    )
    .join(', ');
  console.log(`alerts sent per account and category: ${fatigue || 'none'}`);
  console.log(
    `escalations: ${result.executions.length} (${result.executions.map((e) => e.status).join(', ') || 'none'})`,
  );
  console.log(
    `report:        ${report}\nevents:        ${result.files.events}\nnotifications: ${result.files.notifications}\ndead letters:  ${result.files.deadLetters}\noutbox:        ${result.files.outbox} (what the simulated channels received)`,
  );
  if (!server || !keepServing) {
    if (server) console.log('(not a terminal: the console stops with the replay; --serve keeps it up)');
    await server?.close();
    await system.stop();
    return 0;
  }
  console.log(`\nserving the operator console at ${server.url} — Ctrl-C to stop`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await server.close();
  await system.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    // An unknown or malformed option is bad input too (exit 2), as in the CLI.
    const badOption = String((e as NodeJS.ErrnoException)?.code ?? '').startsWith('ERR_PARSE_ARGS');
    if (e instanceof InputError)
      console.error(`invalid input:\n${e.issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}`);
    else if (badOption) console.error(`invalid input:\n  ${(e as Error).message}`);
    else if (e instanceof JavaMissingError) console.error(e.message);
    else console.error(e);
    process.exit(e instanceof InputError || badOption ? 2 : 1);
  },
);
