import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import {
  readmeSection,
  renderInputsTable,
  replaceReadmeSection,
  skeletonReadme,
} from "../../src/core/inputs/docs.ts";
import { ACTIONS, INPUTS, OUTPUTS, isAlwaysRequired } from "../../src/core/inputs/schema.ts";
import { readInputs } from "../../src/core/inputs/validate.ts";
import { ROOT, generatedFiles } from "../../scripts/generate.ts";

interface ActionYml {
  name: string;
  description: string;
  branding: { icon: string; color: string };
  inputs: Record<string, { description: string; required: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: Record<string, string>;
}

const read = (name: string) => readFile(join(ROOT, name), "utf8");

describe("the input schema", () => {
  it("names each input once, in kebab-case, with a sentence describing it", () => {
    const names = INPUTS.map((input) => input.name);
    expect(new Set(names).size).toBe(names.length);
    for (const input of INPUTS) {
      expect(input.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(input.description).toMatch(/^[A-Z`].*\.$/);
      if (input.kind === "enum") expect(input.options?.length).toBeGreaterThan(1);
      else expect(input.options).toBeUndefined();
      for (const action of [...(input.requiredFor ?? []), ...(input.actions ?? [])]) {
        expect(ACTIONS).toContain(action);
      }
      for (const action of input.requiredFor ?? []) {
        expect(input.actions ?? ACTIONS).toContain(action);
      }
    }
  });

  it("has defaults that pass its own validation", () => {
    const required: Record<string, string> = {
      "subscription-id": "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
      "resource-group": "rg",
      "container-app": "app",
      image: "registry.io/app:1",
    };
    const result = readInputs(
      (name) => required[name] ?? INPUTS.find((i) => i.name === name)?.default,
    );
    expect(result.ok).toBe(true);
  });

  it("names each output once, with a sentence describing it", () => {
    expect(new Set(OUTPUTS.map((output) => output.name)).size).toBe(OUTPUTS.length);
    for (const output of OUTPUTS) expect(output.description).toMatch(/\.$/);
  });
});

describe("action.yml", () => {
  it("declares exactly the schema's inputs and outputs", async () => {
    const action = parse(await read("action.yml")) as ActionYml;
    expect(Object.keys(action.inputs)).toEqual(INPUTS.map((input) => input.name));
    for (const input of INPUTS) {
      const declared = action.inputs[input.name];
      expect(declared.description).toBe(input.description);
      expect(declared.required).toBe(isAlwaysRequired(input));
      expect(declared.default).toBe(input.default);
    }
    expect(action.outputs).toEqual(
      Object.fromEntries(
        OUTPUTS.map((output) => [output.name, { description: output.description }]),
      ),
    );
  });

  it("runs the bundle on node24 with a post step that always runs", async () => {
    const action = parse(await read("action.yml")) as ActionYml;
    expect(action.name).toBe("Azure Container Apps Blue-Green Deploy");
    expect(action.branding).toEqual({ icon: "refresh-cw", color: "blue" });
    expect(action.runs).toEqual({
      using: "node24",
      main: "dist/index.js",
      post: "dist/post.js",
      "post-if": "always()",
    });
  });

  it("fits the Marketplace listing: a description under 125 characters, and branding", async () => {
    const action = parse(await read("action.yml")) as ActionYml & { description: string };
    expect(action.description.length).toBeLessThan(125);
    expect(action.description).toMatch(/Azure Container Apps/);
    // Feather icon names and the colours the Marketplace offers.
    expect(action.branding.icon).toMatch(/^[a-z0-9-]+$/);
    expect([
      "white",
      "black",
      "yellow",
      "blue",
      "green",
      "orange",
      "red",
      "purple",
      "gray-dark",
    ]).toContain(action.branding.color);
  });

  it("marks as required only what every action needs", async () => {
    const action = parse(await read("action.yml")) as ActionYml;
    const required = Object.entries(action.inputs)
      .filter(([, input]) => input.required)
      .map(([name]) => name);
    expect(required).toEqual(["resource-group", "container-app"]);
  });
});

describe("README", () => {
  it("lists every input and output in its generated tables", async () => {
    const readme = await read("README.md");
    const inputs = readmeSection(readme, "inputs") ?? "";
    const outputs = readmeSection(readme, "outputs") ?? "";
    const rowNames = (section: string) =>
      [...section.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((match) => match[1]);
    expect(rowNames(inputs).sort()).toEqual(INPUTS.map((input) => input.name).sort());
    expect(rowNames(outputs)).toEqual(OUTPUTS.map((output) => output.name));
    for (const input of INPUTS) expect(inputs).toContain(input.description);
  });
});

describe("generated files", () => {
  it("are up to date with the schema (run npm run generate when this fails)", async () => {
    for (const file of await generatedFiles()) {
      expect({ file: file.path, content: await readFile(file.path, "utf8") }).toEqual({
        file: file.path,
        content: file.content,
      });
    }
  });
});

describe("README sections", () => {
  it("replace only what lies between the markers", () => {
    const readme =
      "# Title\n\nIntro.\n\n<!-- inputs:start -->\nold\n<!-- inputs:end -->\n\nMore.\n";
    expect(replaceReadmeSection(readme, "inputs", "new table\n")).toBe(
      "# Title\n\nIntro.\n\n<!-- inputs:start -->\n\nnew table\n\n<!-- inputs:end -->\n\nMore.\n",
    );
  });

  it("append a missing section with its markers", () => {
    const updated = replaceReadmeSection("# Title\n", "outputs", "table");
    expect(updated).toBe(
      "# Title\n\n## Outputs\n\n<!-- outputs:start -->\n\ntable\n\n<!-- outputs:end -->\n",
    );
    expect(readmeSection(updated, "outputs")).toBe("table");
  });

  it("start a README with the title and both sections", () => {
    const readme = skeletonReadme();
    expect(readme.startsWith("# Azure Container Apps Blue-Green Deploy\n")).toBe(true);
    expect(readmeSection(readme, "inputs")).toBe("");
    expect(readmeSection(readme, "outputs")).toBe("");
  });

  it("group the inputs table and escape pipes in descriptions", () => {
    const table = renderInputsTable([
      { name: "a-b", description: "One | two.", kind: "string", group: "Checks", default: "x" },
    ]);
    expect(table).toContain("#### Checks");
    expect(table).toContain("| `a-b` | One \\| two. | `x` | no | all |");
    expect(table).not.toContain("#### Target");
  });
});
