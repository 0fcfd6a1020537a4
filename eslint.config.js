import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'spec/artifacts/**', 'lib/dashboard/assets/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'use the injected Clock' },
      ],
    },
  },
  {
    files: ['spec/**', 'bench/**', 'demo/**', 'scripts/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
