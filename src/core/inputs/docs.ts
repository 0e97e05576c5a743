/**
 * Renders the schema into the files users read: action.yml and the README's input and output
 * tables. Pure text; writing and formatting the files is the generator's job.
 */
import { stringify } from "yaml";
import { ACTIONS, INPUTS, OUTPUTS, isAlwaysRequired } from "./schema.ts";
import type { InputGroup, InputSpec, OutputSpec } from "./schema.ts";

export const ACTION_NAME = "Azure Container Apps Blue-Green Deploy";
export const ACTION_DESCRIPTION =
  "Blue-green and progressive deployments to Azure Container Apps: a new revision at 0% traffic, smoke checks on its label URL, traffic shifted step by step, and automatic rollback when a check fails.";
export const ACTION_AUTHOR = "aca-blue-green";

const GROUP_ORDER: readonly InputGroup[] = [
  "Target",
  "Image",
  "Traffic",
  "Checks",
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
      input.actions ? input.actions.map((action) => `\`${action}\``).join(", ") : "all",
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

export type ReadmeSection = "inputs" | "outputs";

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
    const heading = name === "inputs" ? "## Inputs" : "## Outputs";
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
