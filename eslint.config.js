import js from "@eslint/js";
import globals from "globals";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/** Platform packages only the hosts may use. */
const HOST_PACKAGES = ["@actions/*", "azure-pipelines-task-lib", "azure-pipelines-task-lib/*"];

/**
 * The layers of src (see DESIGN.md): entries → hosts → core ← azure, image; image may use azure.
 * Each folder lists the layers it must never import, with the reason shown when it does.
 */
const LAYERS = [
  {
    folder: "core",
    packages: HOST_PACKAGES,
    forbidden: ["azure", "image", "hosts", "github", "ado"],
    why: "src/core is the platform-neutral engine: azure, image and the hosts depend on it, never the reverse.",
  },
  {
    folder: "azure",
    packages: HOST_PACKAGES,
    forbidden: ["image", "hosts", "github", "ado"],
    why: "src/azure talks to Azure for core and image; it imports only core.",
  },
  {
    folder: "image",
    packages: HOST_PACKAGES,
    forbidden: ["hosts", "github", "ado"],
    why: "src/image builds and pushes for the hosts; it imports only azure and core.",
  },
  {
    folder: "hosts",
    packages: [],
    forbidden: ["github", "ado"],
    why: "src/hosts serves the entries; nothing imports an entry.",
  },
  {
    folder: "github",
    packages: ["azure-pipelines-task-lib", "azure-pipelines-task-lib/*"],
    forbidden: ["ado"],
    why: "The Action's entry never imports the Pipelines task's entry.",
  },
  {
    folder: "ado",
    packages: ["@actions/*"],
    forbidden: ["github"],
    why: "The Pipelines task's entry never imports the Action's entry.",
  },
];

function layerRules({ folder, packages, forbidden, why }) {
  const patterns = [
    { group: forbidden.map((layer) => `**/${layer}/*`), message: why },
    {
      group: ["**/emulator/*", "**/__tests__/*", "**/scripts/*"],
      message: "What ships (src) never imports the emulator, the tests or the scripts.",
    },
  ];
  if (packages.length > 0) {
    patterns.push({
      group: packages,
      message: `src/${folder} is platform-neutral: only src/hosts talks to a CI platform.`,
    });
  }
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: { "no-restricted-imports": ["error", { patterns }] },
  };
}

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
  ...LAYERS.map(layerRules),
  {
    // A cycle between modules (and so between layers) fails the lint, whatever the folder rules say.
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js"] })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
);
