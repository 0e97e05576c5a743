import js from "@eslint/js";
import globals from "globals";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

const CI_PLATFORMS = {
  names: ["@actions/*", "azure-pipelines-task-lib", "azure-pipelines-task-lib/*"],
  why: "Only src/hosts and the entries talk to a CI platform.",
};
const AZURE_SDK = {
  names: ["@azure/*", "@azure-rest/*"],
  why: "The Azure SDKs are used in src/azure only; other layers go through its clients.",
};

/**
 * The layers of src: entries (github, ado) → hosts → core ← azure, image; image may use azure.
 * Each folder lists the layers it must never import, so every import that could close a cycle
 * between layers fails the lint.
 */
const LAYERS = [
  {
    folder: "core",
    forbidden: ["azure", "image", "hosts", "github", "ado"],
    why: "src/core is the platform-neutral engine: azure, image and the hosts depend on it, never the reverse.",
    packages: [CI_PLATFORMS, AZURE_SDK],
  },
  {
    folder: "azure",
    forbidden: ["image", "hosts", "github", "ado"],
    why: "src/azure talks to Azure for core and image; it imports only core.",
    packages: [CI_PLATFORMS],
  },
  {
    folder: "image",
    forbidden: ["hosts", "github", "ado"],
    why: "src/image builds and pushes for the hosts; it imports only azure and core.",
    packages: [CI_PLATFORMS, AZURE_SDK],
  },
  {
    folder: "hosts",
    forbidden: ["github", "ado"],
    why: "src/hosts serves the entries; nothing imports an entry.",
    packages: [AZURE_SDK],
  },
  {
    folder: "github",
    forbidden: ["ado"],
    why: "The Action's entry never imports the Pipelines task's entry.",
    packages: [
      {
        names: ["azure-pipelines-task-lib", "azure-pipelines-task-lib/*"],
        why: "The Action's entry does not use the Pipelines task library.",
      },
      AZURE_SDK,
    ],
  },
  {
    folder: "ado",
    forbidden: ["github"],
    why: "The Pipelines task's entry never imports the Action's entry.",
    packages: [
      { names: ["@actions/*"], why: "The Pipelines task's entry does not use @actions." },
      AZURE_SDK,
    ],
  },
];

function layerRules({ folder, forbidden, why, packages = [] }) {
  const patterns = [
    { group: forbidden.map((layer) => `**/${layer}/*`), message: why },
    {
      group: ["**/emulator/*", "**/__tests__/*", "**/scripts/*"],
      message: "What ships (src) never imports the emulator, the tests or the scripts.",
    },
  ];
  for (const { names, why: reason } of packages) patterns.push({ group: names, message: reason });
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
    // A folder of src that is not a layer above would have no import rules at all.
    files: ["src/**/*.ts"],
    ignores: LAYERS.map(({ folder }) => `src/${folder}/**`),
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "Program",
          message:
            "Every folder of src is a layer with import rules: add this one to LAYERS in eslint.config.js.",
        },
      ],
    },
  },
  {
    // And a cycle between two modules fails too, inside a layer as well as across layers.
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
