import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'out/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Money must never pass through a float: Number() on a Decimal or decimal string is banned in the domain.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='parseFloat']",
          message: 'Use Decimal for money, never floats.',
        },
        {
          // A summary evaluation may be lazy (fields are getters on its prototype): a spread copies none.
          selector: 'SpreadElement > CallExpression[callee.name=/^evaluate/]',
          message:
            'Read the fields you need, or evaluationToJson() for a plain copy; never spread an evaluation.',
        },
      ],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*', '@aws-lambda-powertools/*'],
              message: 'shared/ is the pure domain: no AWS imports.',
            },
          ],
        },
      ],
    },
  },
);
