/**
 * The command lines the local builders run, through a scripted runner: which builder `auto`
 * picks, that the password only ever goes through standard input, and how failures read.
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAndPush } from "../../src/image/buildAndPush.ts";
import { failingStep } from "../../src/image/failure.ts";
import type {
  BuildLog,
  BuildRequest,
  CommandRunner,
  RunOptions,
  RunResult,
} from "../../src/image/types.ts";

const PASSWORD = "registry-password-123";
const DIGEST = `sha256:${"cd".repeat(32)}`;

interface Call {
  command: string;
  args: readonly string[];
  stdin?: string;
}

type Script = (
  call: Call,
  options: RunOptions,
) => Promise<Partial<RunResult> & { lines?: string[] }>;

function scriptedRunner(script: Script): CommandRunner & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async run(command, args, options = {}) {
      const call = { command, args, stdin: options.stdin };
      calls.push(call);
      const answer = await script(call, options);
      for (const line of answer.lines ?? []) options.onLine?.(line);
      return {
        exitCode: answer.exitCode ?? 0,
        stdout: answer.stdout ?? "",
        tail: answer.tail ?? answer.lines ?? [],
      };
    },
  };
}

function notInstalled(command: string): never {
  throw Object.assign(new Error(`spawn ${command} ENOENT`), { code: "ENOENT" });
}

function recordingLog(): BuildLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => lines.push(line),
    error: (line) => lines.push(line),
    group: (_title, fn) => fn(),
  };
}

describe("local builders", () => {
  let dir: string;
  let context: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "builders-test-"));
    context = join(dir, "app");
    await mkdir(context);
    await writeFile(join(context, "Dockerfile"), "FROM scratch\n");
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  function request(overrides: Partial<BuildRequest> = {}): BuildRequest {
    return {
      context,
      dockerfile: join(context, "Dockerfile"),
      buildArgs: { VERSION: "3" },
      registry: "registry.example.test",
      imageName: "web",
      tag: "v3",
      builder: "auto",
      auth: { kind: "password", username: "bot", password: PASSWORD },
      revision: "abc",
      ...overrides,
    };
  }

  test("auto skips a docker CLI without a daemon and a missing podman, and builds with buildah", async () => {
    const runner = scriptedRunner(async (call) => {
      if (call.command === "docker")
        return { exitCode: 1, lines: ["Cannot connect to the Docker daemon"] };
      if (call.command === "podman") notInstalled("podman");
      const digestFile = call.args[call.args.indexOf("--digestfile") + 1];
      if (call.args.includes("push")) await writeFile(digestFile, `${DIGEST}\n`);
      return {};
    });
    const log = recordingLog();

    const result = await buildAndPush(request(), { log, run: runner });

    expect(result).toMatchObject({
      builder: "buildah",
      digest: DIGEST,
      image: `registry.example.test/web@${DIGEST}`,
    });
    const buildah = runner.calls.filter(
      (call) => call.command === "buildah" && call.args[0] !== "--version",
    );
    expect(
      buildah.map((call) => call.args.find((arg) => ["login", "bud", "push"].includes(arg))),
    ).toEqual(["login", "bud", "push"]);
    expect(buildah[0].stdin).toBe(PASSWORD);
    expect(buildah[0].args).toEqual(
      expect.arrayContaining(["--username", "bot", "--password-stdin", "registry.example.test"]),
    );
    expect(buildah[1].args.slice(0, 5)).toEqual([
      "--storage-driver",
      "vfs",
      "bud",
      "--isolation",
      "chroot",
    ]);
    expect(buildah[1].args).toEqual(
      expect.arrayContaining([
        "--build-arg",
        "VERSION=3",
        "--label",
        "org.opencontainers.image.revision=abc",
      ]),
    );
    expect(runner.calls.every((call) => !call.args.some((arg) => arg.includes(PASSWORD)))).toBe(
      true,
    );
    expect(log.lines.join("\n")).not.toContain(PASSWORD);
    expect(log.lines).toContain(
      "Builder: buildah (first local builder that works (docker: no CLI or no reachable daemon; podman: not installed))",
    );
  });

  test("docker logs in through stdin, reads the digest from the push and logs out again", async () => {
    const runner = scriptedRunner(async (call) => {
      if (call.args[0] === "push")
        return {
          lines: [
            "The push refers to repository [registry.example.test/web]",
            `v3: digest: ${DIGEST} size: 527`,
          ],
        };
      return {};
    });

    const result = await buildAndPush(request({ builder: "docker" }), {
      log: recordingLog(),
      run: runner,
    });

    expect(result).toMatchObject({ builder: "docker", digest: DIGEST });
    expect(runner.calls.map((call) => call.args[0])).toEqual(["login", "build", "push", "logout"]);
    expect(runner.calls[0]).toEqual({
      command: "docker",
      args: ["login", "--username", "bot", "--password-stdin", "registry.example.test"],
      stdin: PASSWORD,
    });
  });

  test("a failed docker build names the step, and still logs out", async () => {
    const runner = scriptedRunner(async (call) =>
      call.args[0] === "build"
        ? {
            exitCode: 1,
            lines: [
              "#5 [1/2] FROM docker.io/library/alpine:3.20",
              "#6 [2/2] RUN make",
              "#6 0.31 make: *** No targets specified.  Stop.",
              '#6 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
              'ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2',
            ],
          }
        : {},
    );

    const failure = buildAndPush(request({ builder: "docker" }), {
      log: recordingLog(),
      run: runner,
    });

    await expect(failure).rejects.toThrow(
      /docker build of registry\.example\.test\/web:v3 failed at step "\[2\/2\] RUN make" \(exit code 1\)/,
    );
    await expect(failure).rejects.toThrow(/failed to solve/);
    expect(runner.calls.at(-1)?.args).toEqual(["logout", "registry.example.test"]);
  });

  test("podman writes the digest file and gets the private auth file", async () => {
    const runner = scriptedRunner(async (call) => {
      if (call.args.includes("push"))
        await writeFile(call.args[call.args.indexOf("--digestfile") + 1], DIGEST);
      return {};
    });

    const result = await buildAndPush(request({ builder: "podman", certDir: "/certs" }), {
      log: recordingLog(),
      run: runner,
    });

    expect(result).toMatchObject({ builder: "podman", digest: DIGEST });
    const push = runner.calls.find((call) => call.args[0] === "push")!;
    expect(push.args).toEqual(
      expect.arrayContaining([
        "--authfile",
        "--cert-dir",
        "/certs",
        "docker://registry.example.test/web:v3",
      ]),
    );
  });

  test("with no builder at all and a registry that is not ACR, says what to install", async () => {
    const runner = scriptedRunner(async (call) => notInstalled(call.command));

    await expect(buildAndPush(request(), { log: recordingLog(), run: runner })).rejects.toThrow(
      /Install buildah or podman/,
    );
  });

  test("a builder asked for that is not installed is named", async () => {
    const runner = scriptedRunner(async (call) => notInstalled(call.command));

    await expect(
      buildAndPush(request({ builder: "podman" }), { log: recordingLog(), run: runner }),
    ).rejects.toThrow("podman is not installed");
  });

  test("a missing Dockerfile is reported before any builder runs", async () => {
    const runner = scriptedRunner(async () => ({}));

    await expect(
      buildAndPush(request({ dockerfile: join(context, "Dockerfile.missing") }), {
        log: recordingLog(),
        run: runner,
      }),
    ).rejects.toThrow(/dockerfile .*Dockerfile\.missing does not exist/);
    expect(runner.calls).toEqual([]);
  });
});

describe("failingStep", () => {
  test("reads the step from buildah, docker's classic builder and BuildKit output", () => {
    expect(
      failingStep([
        "STEP 1/2: FROM scratch",
        "STEP 2/2: RUN false",
        'Error: building at STEP "RUN false": exit status 1',
      ]),
    ).toBe("RUN false");
    expect(
      failingStep([
        "Step 1/3 : FROM alpine",
        "Step 2/3 : RUN make",
        "The command '/bin/sh -c make' returned a non-zero code: 2",
      ]),
    ).toBe("Step 2/3 : RUN make");
    expect(
      failingStep(["#4 [1/2] FROM alpine", "#5 [build 2/2] RUN make", "#5 ERROR: exit code: 2"]),
    ).toBe("[build 2/2] RUN make");
    expect(failingStep(["no steps here"])).toBeUndefined();
  });
});
