/**
 * The task's manifests against action.yml and the input schema: the same inputs (less those the
 * service connection replaces) with the same defaults and help, the same outputs, and what the
 * agent and the Marketplace need to run and list the task.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../../scripts/generate.ts";
import { BUILD_ONLY_INPUTS } from "../../src/core/inputs/build.ts";
import {
  BUILD_TOGGLE_INPUT,
  SERVICE_CONNECTION_INPUT,
  TASK_ID,
  readmeSection,
  type TaskJson,
} from "../../src/core/inputs/docs.ts";
import {
  ACTIONS,
  INPUTS,
  OUTPUTS,
  inputSpec,
  taskInputName,
} from "../../src/core/inputs/schema.ts";
import { isInputName, spellInputsIn } from "../../src/core/inputs/spelling.ts";
import type { ActionName } from "../../src/core/types.ts";

interface ActionYml {
  inputs: Record<string, { description: string; required: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

interface ExtensionManifest {
  id: string;
  publisher: string;
  version: string;
  icons: { default: string };
  files: { path: string; addressable?: boolean }[];
  contributions: { type: string; targets: string[]; properties: { name: string } }[];
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(join(ROOT, path), "utf8")) as T;
const taskJson = readJson<TaskJson>("task/task.json");
const actionYml = parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as ActionYml;
const manifest = readJson<ExtensionManifest>("vss-extension.json");
const GITHUB_ONLY = new Set(INPUTS.filter((input) => input.githubOnly).map((input) => input.name));

/** Width and height of a PNG file of the repository. */
function pngSize(path: string): [number, number] {
  const png = readFileSync(join(ROOT, path));
  expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

describe("task.json", () => {
  test("offers the service connection and every action.yml input that is not GitHub-only, in camelCase", () => {
    const offered = Object.keys(actionYml.inputs).filter((name) => !GITHUB_ONLY.has(name));
    expect(taskJson.inputs.map((input) => input.name).sort()).toEqual(
      [SERVICE_CONNECTION_INPUT, BUILD_TOGGLE_INPUT, ...offered.map(taskInputName)].sort(),
    );
    expect(taskJson.inputs[0]).toMatchObject({
      name: SERVICE_CONNECTION_INPUT,
      type: "connectedService:AzureRM",
      required: true,
    });
    // The inputs the service connection stands in for, which the host answers from it.
    for (const name of [
      "client-id",
      "tenant-id",
      "creds",
      "environment",
      "arm-endpoint",
      "authority-host",
      "audience",
    ]) {
      expect({ name, githubOnly: GITHUB_ONLY.has(name) }).toEqual({ name, githubOnly: true });
    }
  });

  test("gives each input action.yml's default and description, with input names in camelCase", () => {
    for (const [name, declared] of Object.entries(actionYml.inputs)) {
      if (GITHUB_ONLY.has(name) || inputSpec(name).taskDescription) continue;
      const input = taskJson.inputs.find((candidate) => candidate.name === taskInputName(name));
      expect({ name, defaultValue: input?.defaultValue }).toEqual({
        name,
        defaultValue: declared.default,
      });
      // The help may add notes after the description, such as how a secret is treated.
      const help = input?.helpMarkDown ?? "";
      expect({
        name,
        describedAsInActionYml: help.startsWith(spellInputsIn(declared.description, "task")),
      }).toEqual({ name, describedAsInActionYml: true });
    }
    const smokeChecks = taskJson.inputs.find((input) => input.name === "smokeChecks");
    expect(smokeChecks?.helpMarkDown).toContain("Replaces `smokePath` when given.");
  });

  test("requires an input where action.yml does, or where every action that shows it needs it", () => {
    const required = taskJson.inputs.filter((input) => input.required).map((input) => input.name);
    expect(required.slice(0, 3)).toEqual([
      SERVICE_CONNECTION_INPUT,
      "resourceGroup",
      "containerApp",
    ]);
    for (const spec of INPUTS.filter((input) => !input.githubOnly)) {
      const input = taskJson.inputs.find(
        (candidate) => candidate.name === taskInputName(spec.name),
      );
      const shownFor = (input?.visibleRule ?? "")
        .split(" || ")
        .map((clause) => /^action = (\w+)$/.exec(clause)?.[1])
        .filter((action): action is ActionName => action !== undefined);
      const neededWhereShown =
        shownFor.length > 0 && shownFor.every((action) => spec.requiredFor?.includes(action));
      expect({ input: spec.name, required: input?.required }).toEqual({
        input: spec.name,
        required: (actionYml.inputs[spec.name]?.required ?? false) || neededWhereShown,
      });
    }
  });

  test("shows each input for exactly the actions that read it, and build inputs for a build", () => {
    const action = taskJson.inputs.find((input) => input.name === "action");
    expect(Object.keys(action?.options ?? {})).toEqual([...ACTIONS]);
    const build = new Set(["build-context", ...BUILD_ONLY_INPUTS]);
    for (const spec of INPUTS.filter((input) => !input.githubOnly)) {
      const input = taskJson.inputs.find(
        (candidate) => candidate.name === taskInputName(spec.name),
      );
      const rule = input?.visibleRule ?? "";
      // The editor takes a rule of clauses joined by && alone or by || alone.
      expect({ input: spec.name, mixed: rule.includes("&&") && rule.includes("||") }).toEqual({
        input: spec.name,
        mixed: false,
      });
      const clauses = rule === "" ? [] : rule.split(rule.includes("&&") ? " && " : " || ");
      const shownFor = clauses.flatMap((clause) => /^action = (\w+)$/.exec(clause)?.[1] ?? []);
      const toggle = clauses.filter((clause) => clause.startsWith(BUILD_TOGGLE_INPUT));
      expect({
        input: spec.name,
        shownFor: shownFor.length ? shownFor : [...ACTIONS],
        toggle,
      }).toEqual({
        input: spec.name,
        shownFor: spec.actions ?? [...ACTIONS],
        toggle: build.has(spec.name)
          ? [`${BUILD_TOGGLE_INPUT} = true`]
          : spec.name === "image"
            ? [`${BUILD_TOGGLE_INPUT} = false`]
            : [],
      });
    }
    const checkbox = taskJson.inputs.find((input) => input.name === BUILD_TOGGLE_INPUT);
    expect(checkbox).toMatchObject({
      type: "boolean",
      defaultValue: "false",
      visibleRule: "action = deploy",
    });
  });

  test("names inputs in its help as the task spells them, never as the Action does", () => {
    const texts = [
      taskJson.helpMarkDown,
      ...taskJson.inputs.map((input) => input.helpMarkDown),
      ...taskJson.outputVariables.map((output) => output.description),
    ];
    const named = texts.flatMap((text) =>
      [...text.matchAll(/`([a-z][a-z0-9-]*)(?::[^`]*)?`|<([a-z][a-z0-9-]*)>/g)]
        .map((match) => match[1] ?? match[2])
        .filter((name) => isInputName(name) && (name.includes("-") || inputSpec(name).githubOnly)),
    );
    expect(named).toEqual([]);
  });

  test("has a 32 × 32 icon beside it, as the task conventions ask", () => {
    expect(pngSize("task/icon.png")).toEqual([32, 32]);
  });

  test("places every input but the connection in a declared group, in the README's order", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const readmeGroups = [...(readmeSection(readme, "inputs") ?? "").matchAll(/^#### (\w+)$/gm)]
      .map((match) => match[1])
      .filter((group) => INPUTS.some((input) => input.group === group && !input.githubOnly));
    expect(taskJson.groups.map((group) => group.displayName)).toEqual(readmeGroups);
    expect(readmeGroups).toContain("Traffic");
    for (const input of taskJson.inputs.slice(1)) {
      expect(taskJson.groups.map((group) => group.name)).toContain(input.groupName);
    }
  });

  test("sets action.yml's outputs as output variables, in camelCase", () => {
    expect(taskJson.outputVariables).toEqual(
      Object.entries(actionYml.outputs).map(([name, { description }]) => ({
        name: taskInputName(name),
        description: spellInputsIn(description, "task"),
      })),
    );
    expect(taskJson.outputVariables.map((output) => output.name)).toEqual(
      OUTPUTS.map((output) => taskInputName(output.name)),
    );
  });

  test("runs the committed bundles on the Node24 and Node20_1 handlers, after the job too", () => {
    expect(taskJson.execution).toEqual({
      Node24: { target: "index.js" },
      Node20_1: { target: "index.js" },
    });
    expect(taskJson.postjobexecution).toEqual({
      Node24: { target: "post.js" },
      Node20_1: { target: "post.js" },
    });
    for (const file of ["index.js", "post.js", "steps.js"]) {
      expect(existsSync(join(ROOT, "task", file))).toBe(true);
    }
    expect(readJson<{ type: string }>("task/package.json")).toEqual({ type: "commonjs" });
    expect(taskJson.minimumAgentVersion).toBe("3.232.1");
  });

  test("meets the rules of the task schema that tfx and the agent enforce", () => {
    expect(taskJson.id).toBe(TASK_ID);
    expect(taskJson.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(taskJson.name).toBe("AcaBlueGreen");
    expect(taskJson.friendlyName.length).toBeLessThanOrEqual(40);
    expect(taskJson.category).toBe("Deploy");
    expect(taskJson.version.Major).toBe(1);
    expect(taskJson.instanceNameFormat).toMatch(/\$\(containerApp\)/);
    for (const input of taskJson.inputs) {
      expect(input.name).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(input.label.length).toBeGreaterThan(0);
    }
    for (const output of taskJson.outputVariables) {
      expect(output.name).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
    }
  });
});

describe("vss-extension.json", () => {
  test("contributes the task folder, at the task's version, with its icon", () => {
    const { Major, Minor, Patch } = taskJson.version;
    expect(manifest.version).toBe(`${Major}.${Minor}.${Patch}`);
    expect(manifest.publisher).toBe("aca-blue-green");
    expect(manifest.files).toEqual([
      { path: "task" },
      { path: "images/extension-icon.png", addressable: true },
    ]);
    expect(manifest.contributions).toEqual([
      expect.objectContaining({
        type: "ms.vss-distributed-task.task",
        targets: ["ms.vss-distributed-task.tasks"],
        properties: { name: "task" },
      }),
    ]);
    // The Marketplace lists the extension with a 128 × 128 icon.
    expect(pngSize(manifest.icons.default)).toEqual([128, 128]);
  });
});

describe("docs/azure-pipelines.md", () => {
  test("lists every task input and output variable in its generated tables", () => {
    const guide = readFileSync(join(ROOT, "docs", "azure-pipelines.md"), "utf8");
    const rowNames = (section: string | undefined) =>
      [...(section ?? "").matchAll(/^\| `([A-Za-z]+)` +\|/gm)].map((match) => match[1]);
    expect(rowNames(readmeSection(guide, "task-inputs")).sort()).toEqual(
      taskJson.inputs.map((input) => input.name).sort(),
    );
    expect(rowNames(readmeSection(guide, "task-outputs"))).toEqual(
      taskJson.outputVariables.map((output) => output.name),
    );
  });
});
