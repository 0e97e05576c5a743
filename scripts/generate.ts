/**
 * Writes action.yml, task/task.json, and the input and output tables of README.md and
 * docs/azure-pipelines.md from the input schema.
 * `--check` writes nothing and exits 1 when a file is out of date.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as prettier from "prettier";
import {
  renderActionYml,
  renderInputsTable,
  renderOutputsTable,
  renderTaskInputsTable,
  renderTaskJson,
  renderTaskOutputsTable,
  replaceReadmeSection,
  skeletonReadme,
} from "../src/core/inputs/docs.ts";

export interface GeneratedFile {
  path: string;
  content: string;
}

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What the generated files must contain, formatted as the repository's prettier formats them. */
export async function generatedFiles(root: string = ROOT): Promise<GeneratedFile[]> {
  return [...(await actionFiles(root)), ...(await taskFiles(root))];
}

async function actionFiles(root: string): Promise<GeneratedFile[]> {
  const actionPath = join(root, "action.yml");
  const readmePath = join(root, "README.md");
  const current = await readOptional(readmePath);
  let readme = current ?? skeletonReadme();
  // Only the generated sections are formatted, so the rest of the README stays as its authors wrote it.
  readme = replaceReadmeSection(readme, "inputs", await format(renderInputsTable(), readmePath));
  readme = replaceReadmeSection(readme, "outputs", await format(renderOutputsTable(), readmePath));
  return [
    { path: actionPath, content: await format(renderActionYml(), actionPath) },
    {
      path: readmePath,
      content: current === undefined ? await format(readme, readmePath) : readme,
    },
  ];
}

/** The Pipelines task's task.json, and the tables of its guide (whose prose stays as written). */
async function taskFiles(root: string): Promise<GeneratedFile[]> {
  const taskJsonPath = join(root, "task", "task.json");
  const guidePath = join(root, "docs", "azure-pipelines.md");
  let guide = (await readOptional(guidePath)) ?? "# Azure Pipelines task\n";
  guide = replaceReadmeSection(
    guide,
    "task-inputs",
    await format(renderTaskInputsTable(), guidePath),
  );
  guide = replaceReadmeSection(
    guide,
    "task-outputs",
    await format(renderTaskOutputsTable(), guidePath),
  );
  return [
    {
      path: taskJsonPath,
      content: await format(`${JSON.stringify(renderTaskJson(), null, 2)}\n`, taskJsonPath),
    },
    { path: guidePath, content: guide },
  ];
}

async function format(text: string, filepath: string): Promise<string> {
  const options = await prettier.resolveConfig(filepath);
  return prettier.format(text, { ...options, filepath });
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  let stale = 0;
  for (const file of await generatedFiles()) {
    const name = relative(ROOT, file.path);
    if ((await readOptional(file.path)) === file.content) continue;
    if (check) {
      stale += 1;
      console.error(`${name} is out of date with src/core/inputs/schema.ts; run npm run generate`);
    } else {
      await mkdir(dirname(file.path), { recursive: true });
      await writeFile(file.path, file.content);
      console.log(`wrote ${name}`);
    }
  }
  if (check && stale === 0) console.log("every generated file matches the input schema");
  return stale > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
