/**
 * The layers (docs/architecture.md): imports point down only, and nothing imports in a circle.
 *   shared/ (the pure domain) ← functions/ (Lambda handlers and adapters) ← infra/ (CDK)
 *   ← local/, bench/, cli/, scripts/ (entry points) — and test/ may import anything.
 * client/ (the broker's typed API client) and console/ (the browser app) import from shared/ only.
 * `npm test` runs this through scripts/checks.ts; test/unit/architecture.test.ts shows that an upward
 * import and a cycle each fail it.
 */
const layer = (name, mayNotImport, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^${name}/` },
  to: { path: `^(${mayNotImport.join('|')})/` },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle ties modules together so neither can change alone: split the shared part out.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer(
      'shared',
      ['client', 'functions', 'infra', 'local', 'bench', 'cli', 'scripts', 'console', 'test'],
      'shared/ is the domain: it imports nothing above it.',
    ),
    layer(
      'functions',
      ['client', 'infra', 'local', 'bench', 'cli', 'scripts', 'console', 'test'],
      'Handlers and adapters import the domain, never the CDK app or the tools above them.',
    ),
    layer(
      'infra',
      ['local', 'bench', 'cli', 'scripts', 'test'],
      'The CDK app imports handlers and the domain, never local mode or tools.',
    ),
    layer(
      'client',
      ['functions', 'infra', 'local', 'bench', 'cli', 'scripts', 'console', 'test'],
      'The broker’s client shares only the domain’s types and schemas.',
    ),
    layer(
      'console',
      ['functions', 'infra', 'local', 'bench', 'cli', 'scripts', 'test'],
      'The browser console shares only the domain.',
    ),
    layer('(local|bench|cli|scripts)', ['test'], 'Entry points never import tests.'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|out|cdk\\.out|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
