/**
 * How each platform spells the inputs it names in messages and help texts. A GitHub workflow
 * writes the schema's kebab-case (`traffic-steps`), an Azure pipeline the task's camelCase
 * (`trafficSteps`), and the task's service connection stands in for the sign-in inputs.
 *
 * The rule for every message and description: name an input in a code span, alone
 * (`traffic-steps`) or with a value (`auto-promote: false`), or as a placeholder
 * (`<container-app>`). The platform's host then rewrites each one with `spellInputsIn`.
 */
import { INPUTS, taskInputName } from "./schema.ts";

/** `action`: the GitHub Action's kebab-case; `task`: the Azure Pipelines task's names. */
export type InputSpelling = "action" | "task";

/** What the task's service connection (`azureSubscription`) gives in place of these inputs. */
const FROM_SERVICE_CONNECTION: Readonly<Record<string, string>> = {
  creds: "the service connection",
  "client-id": "the service connection",
  "tenant-id": "the service connection",
  audience: "the service connection",
  environment: "the service connection's Azure cloud",
  "arm-endpoint": "the service connection's Resource Manager URL",
  "authority-host": "the service connection's authority",
};

const NAMES = new Set(INPUTS.map((input) => input.name));

/** Whether `name` is an input of the schema. */
export function isInputName(name: string): boolean {
  return NAMES.has(name);
}

/** One input's name as the platform writes it, without markup. */
export function spellInput(name: string, spelling: InputSpelling): string {
  if (spelling === "action") return name;
  return FROM_SERVICE_CONNECTION[name] ?? taskInputName(name);
}

const CODE_SPAN = /`([a-z][a-z0-9-]*)((?:[:=[])[^`\n]*)?`/g;
const PLACEHOLDER = /<([a-z][a-z0-9-]*)>/g;

/**
 * Rewrites the inputs a text names, in code spans and placeholders, as the platform spells them;
 * everything else is left as it is.
 */
export function spellInputsIn(text: string, spelling: InputSpelling): string {
  if (spelling === "action") return text;
  return text
    .replace(CODE_SPAN, (span, name: string, rest: string | undefined) => {
      if (!NAMES.has(name)) return span;
      const prose = FROM_SERVICE_CONNECTION[name];
      if (prose !== undefined) return rest ? `${prose} (${rest.slice(1).trim()})` : prose;
      return `\`${taskInputName(name)}${rest ?? ""}\``;
    })
    .replace(PLACEHOLDER, (placeholder, name: string) =>
      NAMES.has(name) && !(name in FROM_SERVICE_CONNECTION)
        ? `<${taskInputName(name)}>`
        : placeholder,
    );
}
