import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "task/index.cjs", "task/*.js", "node_modules/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-imports": "off",
    },
  },
  {
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@actions/*", "azure-pipelines-task-lib", "azure-pipelines-task-lib/*"],
              message: "src/core is platform-neutral: hosts depend on core, never the reverse.",
            },
            {
              group: ["**/hosts/*", "**/github/*", "**/ado/*"],
              message: "src/core never imports a host or an entry.",
            },
          ],
        },
      ],
    },
  },
);
