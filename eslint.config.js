import js from "@eslint/js";
import tseslint from "typescript-eslint";

const CLIENT_NODE_TYPES_ONLY =
  "types only: the runtime talks to the apiserver through src/kube/ (KubeRest, ResilientInformer, KubeConnection)";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "charts/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/ban-ts-comment": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/explicit-function-return-type": ["error", { allowExpressions: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // Contract methods are async even where an implementation needs no await (a fake, an in-memory allocator).
      "@typescript-eslint/require-await": "off",
      "max-depth": ["error", 4],
      "max-params": ["error", 5],
      // Budgets for product code: a function a reader can hold in their head. Tests and benches are exempt below
      // (a describe block is long by nature), but keep a looser complexity budget.
      complexity: ["error", 15],
      "max-lines-per-function": ["error", { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The runtime path (the controller, the providers, the speaker) takes only types from client-node: its main
    // module loads every generated API and model, 58 MB of RSS on import beside our other dependencies. KubeRest,
    // ResilientInformer and KubeConnection (src/kube/) do the API calls, the watches and the kubeconfig.
    files: ["src/**/*.ts", "providers/**/*.ts"],
    ignores: ["**/*.test.ts", "src/conformance/**", "src/cli/conformance-command.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { paths: [{ name: "@kubernetes/client-node", allowTypeImports: true, message: CLIENT_NODE_TYPES_ONLY }] },
      ],
    },
  },
  {
    // The speaker is its own program: it reaches the core only through the public runtime layer, the model, the
    // toolkit and the package's main export (types only: that one loads the conformance suite), so the core can
    // change its internals without breaking it.
    files: ["speaker/**/*.ts"],
    ignores: ["speaker/**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [{ name: "@kubernetes/client-node", allowTypeImports: true, message: CLIENT_NODE_TYPES_ONLY }],
          patterns: [
            {
              regex: "^(\\.\\./)+src/(?!(index|runtime/index|model/index|toolkit/index)\\.js$)",
              message:
                "the speaker imports the core only via src/index.js, src/runtime/index.js, src/model/index.js or src/toolkit/index.js",
            },
            {
              regex: "^(\\.\\./)+src/index\\.js$",
              allowTypeImports: true,
              message:
                "values come from src/toolkit/index.js or src/runtime/index.js: the main export loads the conformance suite",
            },
            { regex: "^(\\.\\./)+providers/", message: "the speaker does not import provider internals" },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.test.ts", "test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/explicit-function-return-type": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      complexity: ["error", 25],
      "max-lines-per-function": "off",
    },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
);
