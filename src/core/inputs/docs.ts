/**
 * Renders the schema into the files users read: action.yml, the Azure Pipelines task.json, and
 * the input and output tables of the README and of the task's guide. Pure text; writing and
 * formatting the files is the generator's job.
 */
import { stringify } from "yaml";
import { ACTIONS, INPUTS, OUTPUTS, isAlwaysRequired, taskInputName } from "./schema.ts";
import type { InputGroup, InputSpec, OutputSpec } from "./schema.ts";
import { BUILD_ONLY_INPUTS } from "./build.ts";
import { spellInputsIn } from "./spelling.ts";

export const ACTION_NAME = "Azure Container Apps Blue-Green Deploy";
/** The Marketplace lists an Action with at most 125 characters of description. */
export const ACTION_DESCRIPTION =
  "Blue-green and progressive deploys to Azure Container Apps: smoke checks, traffic shifted step by step, automatic rollback.";
export const ACTION_AUTHOR = "aca-blue-green";

const GROUP_ORDER: readonly InputGroup[] = [
  "Target",
  "Image",
  "Revision",
  "Traffic",
  "Checks",
  "Gates",
  "Authentication",
  "Advanced",
];

const GENERATED_NOTE =
  "Generated from src/core/inputs/schema.ts by `npm run generate`: edit the schema, not this file.";

export function renderActionYml(
  inputs: readonly InputSpec[] = INPUTS,
  outputs: readonly OutputSpec[] = OUTPUTS,
): string {
  const document = {
    name: ACTION_NAME,
    description: ACTION_DESCRIPTION,
    author: ACTION_AUTHOR,
    branding: { icon: "refresh-cw", color: "blue" },
    inputs: Object.fromEntries(
      inputs.map((input) => [
        input.name,
        {
          description: input.description,
          required: isAlwaysRequired(input),
          ...(input.default !== undefined && { default: input.default }),
        },
      ]),
    ),
    outputs: Object.fromEntries(
      outputs.map((output) => [output.name, { description: output.description }]),
    ),
    runs: { using: "node24", main: "dist/index.js", post: "dist/post.js", "post-if": "always()" },
  };
  return `# ${GENERATED_NOTE}\n${stringify(document, { lineWidth: 0 })}`;
}

/** One table per group, in the order a user configures them. */
export function renderInputsTable(inputs: readonly InputSpec[] = INPUTS): string {
  const blocks: string[] = [];
  for (const group of GROUP_ORDER) {
    const members = inputs.filter((input) => input.group === group);
    if (members.length === 0) continue;
    const rows = members.map((input) => [
      `\`${input.name}\``,
      describeInput(input),
      input.default === undefined ? "" : codeSpan(input.default),
      requiredText(input),
      usedBy(input),
    ]);
    blocks.push(
      `#### ${group}\n\n${markdownTable(["Input", "Description", "Default", "Required", "Used by"], rows)}`,
    );
  }
  return `<!-- ${GENERATED_NOTE} -->\n\n${blocks.join("\n\n")}\n`;
}

export function renderOutputsTable(outputs: readonly OutputSpec[] = OUTPUTS): string {
  const rows = outputs.map((output) => [`\`${output.name}\``, output.description]);
  return `<!-- ${GENERATED_NOTE} -->\n\n${markdownTable(["Output", "Description"], rows)}\n`;
}

/** The task's identity in Azure DevOps: fixed for good once the task is published. */
export const TASK_ID = "fc75ab24-988b-497d-a11a-d759de0a6f1e";
const TASK_NAME = "AcaBlueGreen";
const TASK_VERSION = { Major: 1, Minor: 0, Patch: 0 } as const;
/** Agent 3.232.1 is the first with the Node20_1 handler; newer agents pick Node24. */
const TASK_MINIMUM_AGENT_VERSION = "3.232.1";
const TASK_HELP_URL =
  "https://github.com/aca-blue-green/aca-blue-green/blob/main/docs/azure-pipelines.md";
/** The task input holding the Azure Resource Manager service connection. */
export const SERVICE_CONNECTION_INPUT = "azureSubscription";

/**
 * A checkbox of the task's editor that shows the inputs of a build from source, which are hidden
 * otherwise. It only changes what the editor shows: as in YAML, the build runs when `buildContext`
 * is given.
 */
export const BUILD_TOGGLE_INPUT = "buildFromSource";
const BUILD_INPUTS: ReadonlySet<string> = new Set(["build-context", ...BUILD_ONLY_INPUTS]);

const SERVICE_CONNECTION_HELP =
  "Azure Resource Manager service connection to deploy with: workload identity federation (recommended), a service principal with a secret or a certificate, or a managed identity. It also gives the subscription (unless `subscriptionId` is set) and the Azure cloud.";

export interface TaskInput {
  name: string;
  type: string;
  label: string;
  defaultValue?: string;
  required: boolean;
  helpMarkDown: string;
  groupName?: string;
  visibleRule?: string;
  options?: Record<string, string>;
  properties?: Record<string, string>;
}

export interface TaskJson {
  $schema: string;
  id: string;
  name: string;
  friendlyName: string;
  description: string;
  helpMarkDown: string;
  category: "Deploy";
  visibility: string[];
  runsOn: string[];
  author: string;
  version: { Major: number; Minor: number; Patch: number };
  minimumAgentVersion: string;
  instanceNameFormat: string;
  groups: { name: string; displayName: string; isExpanded: boolean }[];
  inputs: TaskInput[];
  outputVariables: { name: string; description: string }[];
  execution: Record<string, { target: string }>;
  postjobexecution: Record<string, { target: string }>;
}

/**
 * task.json of the Azure Pipelines task: every input the service connection does not replace,
 * under its camelCase name, grouped like the README, shown only for the actions that read it.
 */
export function renderTaskJson(
  inputs: readonly InputSpec[] = INPUTS,
  outputs: readonly OutputSpec[] = OUTPUTS,
): TaskJson {
  const offered = taskInputs(inputs);
  const groups = GROUP_ORDER.filter((group) => offered.some((input) => input.group === group));
  // Both handlers run the same bundle; an agent picks the newest it has.
  const handlers = (target: string) => ({ Node24: { target }, Node20_1: { target } });
  return {
    $schema:
      "https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json",
    id: TASK_ID,
    name: TASK_NAME,
    friendlyName: ACTION_NAME,
    description: ACTION_DESCRIPTION,
    helpMarkDown: `[Learn more about this task](${TASK_HELP_URL})`,
    category: "Deploy",
    visibility: ["Build", "Release"],
    runsOn: ["Agent"],
    author: ACTION_AUTHOR,
    version: TASK_VERSION,
    minimumAgentVersion: TASK_MINIMUM_AGENT_VERSION,
    instanceNameFormat: "Blue-green $(action): $(containerApp)",
    groups: groups.map((group) => ({
      name: taskGroupName(group),
      displayName: group,
      isExpanded: group !== "Advanced",
    })),
    inputs: [
      {
        name: SERVICE_CONNECTION_INPUT,
        type: "connectedService:AzureRM",
        label: "Azure Resource Manager connection",
        required: true,
        helpMarkDown: SERVICE_CONNECTION_HELP,
        // Insights reads the pipeline's own records, not Azure.
        visibleRule: "action != insights",
      },
      ...groups.flatMap((group) =>
        offered.filter((input) => input.group === group).flatMap(renderTaskInputs),
      ),
    ],
    outputVariables: outputs.map((output) => ({
      name: taskInputName(output.name),
      description: spellInputsIn(output.description, "task"),
    })),
    execution: handlers("index.js"),
    postjobexecution: handlers("post.js"),
  };
}

/** The schema inputs the task offers: all but those its service connection replaces. */
function taskInputs(inputs: readonly InputSpec[] = INPUTS): InputSpec[] {
  return inputs.filter((input) => !input.githubOnly);
}

/**
 * Required in the task when every action that shows it needs it: Pipelines enforces `required`
 * only on visible inputs, so `image` is required exactly when `action` is `deploy`.
 */
function isTaskRequired(input: InputSpec): boolean {
  const shownFor = input.actions ?? ACTIONS;
  return shownFor.every((action) => input.requiredFor?.includes(action) ?? false);
}

/** An input, and before the first build input the checkbox that shows them. */
function renderTaskInputs(input: InputSpec): TaskInput[] {
  if (input.name !== "build-context") return [renderTaskInput(input)];
  return [buildToggle(input.group), renderTaskInput(input)];
}

function buildToggle(group: InputGroup): TaskInput {
  return {
    name: BUILD_TOGGLE_INPUT,
    type: "boolean",
    label: "Build the image from source",
    defaultValue: "false",
    required: false,
    helpMarkDown:
      "Shows the inputs of a build from source (`buildContext`, `registry`, `imageName` and the rest) instead of `image`. It only changes what the editor shows: the build runs when `buildContext` is given, as it does in YAML.",
    groupName: taskGroupName(group),
    visibleRule: "action = deploy",
  };
}

function renderTaskInput(input: InputSpec): TaskInput {
  const rendered: TaskInput = {
    name: taskInputName(input.name),
    type: TASK_INPUT_TYPES[input.kind],
    label: taskInputLabel(input.name),
    ...(input.default !== undefined && { defaultValue: input.default }),
    required: isTaskRequired(input),
    helpMarkDown: taskDescription(input),
    groupName: taskGroupName(input.group),
  };
  if (BUILD_INPUTS.has(input.name)) {
    // The editor combines the clauses of a rule with && or with ||, never both.
    rendered.visibleRule = `action = deploy && ${BUILD_TOGGLE_INPUT} = true`;
  } else if (input.name === "image") {
    rendered.visibleRule = `action = deploy && ${BUILD_TOGGLE_INPUT} = false`;
  } else if (input.actions && input.actions.length < ACTIONS.length) {
    rendered.visibleRule = input.actions.map((action) => `action = ${action}`).join(" || ");
  }
  if (input.kind === "enum") {
    rendered.options = Object.fromEntries((input.options ?? []).map((option) => [option, option]));
    rendered.properties = { EditableOptions: "False" };
  }
  if (input.kind === "yaml" || input.kind === "json" || input.kind === "lines") {
    rendered.properties = { resizable: "true", rows: "8" };
  }
  return rendered;
}

const TASK_INPUT_TYPES: Record<InputSpec["kind"], string> = {
  string: "string",
  lines: "multiLine",
  boolean: "boolean",
  enum: "pickList",
  duration: "string",
  "percent-list": "string",
  yaml: "multiLine",
  json: "multiLine",
  url: "string",
};

const LABEL_WORDS: Record<string, string> = { id: "ID", url: "URL", arm: "ARM" };

/** `subscription-id` → `Subscription ID`. */
function taskInputLabel(name: string): string {
  const words = name.split("-").map((word) => LABEL_WORDS[word] ?? word);
  return `${words[0].charAt(0).toUpperCase()}${words[0].slice(1)} ${words.slice(1).join(" ")}`.trim();
}

function taskGroupName(group: InputGroup): string {
  return group.toLowerCase();
}

/** An input's description as the task's users read it: in the task's names. */
function taskDescription(input: InputSpec): string {
  return spellInputsIn(
    describeInput({ ...input, description: input.taskDescription ?? input.description }),
    "task",
  );
}

/** The task's inputs, one table per group, with the service connection first. */
export function renderTaskInputsTable(inputs: readonly InputSpec[] = INPUTS): string {
  const offered = taskInputs(inputs);
  const blocks: string[] = [];
  for (const group of GROUP_ORDER) {
    const members = offered.filter((input) => input.group === group);
    if (members.length === 0) continue;
    const rows = members.flatMap((input) => {
      const row = [
        `\`${taskInputName(input.name)}\``,
        taskDescription(input),
        input.default === undefined ? "" : codeSpan(input.default),
        requiredText(input),
        usedBy(input),
      ];
      if (input.name !== "build-context") return [row];
      const toggle = buildToggle(input.group);
      return [[`\`${toggle.name}\``, toggle.helpMarkDown, "`false`", "no", "`deploy`"], row];
    });
    if (group === "Target") {
      rows.unshift([
        `\`${SERVICE_CONNECTION_INPUT}\``,
        SERVICE_CONNECTION_HELP,
        "",
        "yes",
        "all but `insights`",
      ]);
    }
    blocks.push(
      `#### ${group}\n\n${markdownTable(["Input", "Description", "Default", "Required", "Used by"], rows)}`,
    );
  }
  return `<!-- ${GENERATED_NOTE} -->\n\n${blocks.join("\n\n")}\n`;
}

/** The task's output variables, named like its inputs. */
export function renderTaskOutputsTable(outputs: readonly OutputSpec[] = OUTPUTS): string {
  const rows = outputs.map((output) => [
    `\`${taskInputName(output.name)}\``,
    spellInputsIn(output.description, "task"),
  ]);
  return `<!-- ${GENERATED_NOTE} -->\n\n${markdownTable(["Output variable", "Description"], rows)}\n`;
}

function describeInput(input: InputSpec): string {
  const notes = [input.description];
  if (input.secret) notes.push("Treated as a secret: never printed.");
  if (input.githubOnly) {
    notes.push(
      "GitHub Action only; the Azure Pipelines task takes it from its service connection.",
    );
  }
  return notes.join(" ");
}

/** The actions that read an input: `all`, `all but \`insights\``, or the list. */
function usedBy(input: InputSpec): string {
  if (!input.actions) return "all";
  const missing = ACTIONS.filter((action) => !input.actions?.includes(action));
  if (missing.length === 1) return `all but \`${missing[0]}\``;
  return input.actions.map((action) => `\`${action}\``).join(", ");
}

function requiredText(input: InputSpec): string {
  if (isAlwaysRequired(input)) return "yes";
  const actions = ACTIONS.filter((action) => input.requiredFor?.includes(action));
  return actions.length === 0 ? "no" : `for ${actions.map((action) => `\`${action}\``).join(", ")}`;
}

function codeSpan(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) =>
    `| ${cells.map((cell) => cell.replace(/\r?\n/g, " ").replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), `| ${header.map(() => "---").join(" | ")} |`, ...rows.map(line)].join("\n");
}

export const README_TITLE = `# ${ACTION_NAME}`;

/** Marked sections: the README's tables for the Action, the task guide's for the task. */
export type ReadmeSection = "inputs" | "outputs" | "task-inputs" | "task-outputs";

const SECTION_HEADINGS: Record<ReadmeSection, string> = {
  inputs: "## Inputs",
  outputs: "## Outputs",
  "task-inputs": "## Inputs",
  "task-outputs": "## Output variables",
};

/** A README holding just the title and the marked sections, for a repository that has none. */
export function skeletonReadme(): string {
  return `${README_TITLE}\n\n## Inputs\n\n${markers("inputs")}\n\n## Outputs\n\n${markers("outputs")}\n`;
}

/**
 * Replaces what lies between `<!-- name:start -->` and `<!-- name:end -->`, leaving the rest of
 * the README as it is; a README without the markers gets the section appended.
 */
export function replaceReadmeSection(readme: string, name: ReadmeSection, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end, from === -1 ? 0 : from);
  if (from === -1 || to === -1) {
    const heading = SECTION_HEADINGS[name];
    const separator = readme.endsWith("\n") ? "\n" : "\n\n";
    return `${readme}${separator}${heading}\n\n${start}\n\n${body.trim()}\n\n${end}\n`;
  }
  return `${readme.slice(0, from + start.length)}\n\n${body.trim()}\n\n${readme.slice(to)}`;
}

/** The text between a section's markers, or undefined when the markers are missing. */
export function readmeSection(readme: string, name: ReadmeSection): string | undefined {
  const start = `<!-- ${name}:start -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(`<!-- ${name}:end -->`, from);
  if (from === -1 || to === -1) return undefined;
  return readme.slice(from + start.length, to).trim();
}

function markers(name: ReadmeSection): string {
  return `<!-- ${name}:start -->\n<!-- ${name}:end -->`;
}
