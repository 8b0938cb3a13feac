import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        {
          name: 'vscode',
          message: 'Only extension/ may import vscode: this module is shared with the server and the CLI.',
        },
      ],
    },
  ],
};

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', 'test/e2e/.cache/**', '**/*.js', '**/*.mjs', '*.vsix'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // One namespace per custom LSP message (method + type together), as vscode-eslint does.
      '@typescript-eslint/no-namespace': 'off',
    },
  },
  {
    files: ['server/**/*.ts', 'core/**/*.ts', 'common/**/*.ts', 'cli/**/*.ts', 'webview/**/*.ts'],
    rules: noVscode,
  },
  {
    // Notifications render links (command: URIs too): every one goes through extension/notify.ts.
    files: ['extension/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'MemberExpression[property.name=/^show(Error|Warning|Information)Message$/]',
          message: 'Use notify (extension/notify.ts): it makes untrusted text safe for notifications.',
        },
      ],
    },
  },
);
