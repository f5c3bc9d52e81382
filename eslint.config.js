// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** agent and collector depend on @vigil/shared only, never on each other. */
const forbid = (other) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: [`@vigil/${other}`, `@vigil/${other}/*`], message: `Only @vigil/shared is shared: do not import @vigil/${other}.` },
        { group: [`**/${other}/src/**`, `**/${other}/dist/**`, `../../${other}/*`, `../${other}/*`], message: `Do not import ${other} code by path.` },
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['agent/**'], rules: forbid('collector') },
  { files: ['collector/**'], rules: forbid('agent') },
  // The dashboard runs in the browser: browser globals, and only type imports from @vigil/shared (erased).
  {
    files: ['dashboard/src/**'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@vigil/agent', '@vigil/collector', 'node:*'], message: 'The dashboard runs in the browser.' },
            { group: ['@vigil/shared', '@vigil/shared/*'], allowTypeImports: true, message: 'Only types from @vigil/shared: the browser loads no bundle.' },
          ],
        },
      ],
    },
  },
  { files: ['shared/**'], rules: { ...forbid('agent'), 'no-restricted-imports': ['error', { patterns: ['@vigil/agent', '@vigil/collector', 'node:*', 'fs', 'net', 'http'] }] } },
);
