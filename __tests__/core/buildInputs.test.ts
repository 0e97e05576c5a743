import { join } from "node:path";
import { readBuildInputs } from "../../src/core/inputs/build.ts";
import { INPUTS } from "../../src/core/inputs/schema.ts";

const COMMIT = "9f3c2a1b7d4e5f60718293a4b5c6d7e8f9012345";

function inputs(values: Record<string, string>) {
  return (name: string) => values[name];
}

describe("readBuildInputs", () => {
  test("no build-context means no build", () => {
    expect(readBuildInputs(inputs({ image: "nginx:1.27" }), { commitSha: COMMIT })).toEqual({
      ok: true,
    });
  });

  test("a full set of inputs becomes a build request, tagged with the commit by default", () => {
    const result = readBuildInputs(
      inputs({
        "build-context": "app",
        registry: "MyAcr.azurecr.io",
        "image-name": "team/web",
        "build-args": "VERSION=1.2.3\n\n# a comment\nURL = https://example.test/?a=b\n",
      }),
      { commitSha: COMMIT, repositoryUrl: "https://github.com/contoso/web" },
    );

    expect(result).toEqual({
      ok: true,
      build: {
        context: "app",
        dockerfile: join("app", "Dockerfile"),
        buildArgs: { VERSION: "1.2.3", URL: "https://example.test/?a=b" },
        registry: "myacr.azurecr.io",
        imageName: "team/web",
        tag: COMMIT,
        builder: "auto",
        auth: { kind: "entra" },
        source: "https://github.com/contoso/web",
        revision: COMMIT,
      },
    });
  });

  test("a user name and password log in with them; another registry without them does not log in", () => {
    const withPassword = readBuildInputs(
      inputs({
        "build-context": ".",
        registry: "ghcr.io",
        "image-name": "contoso/web",
        "image-tag": "v2",
        "registry-username": "bot",
        "registry-password": "pat-value",
        builder: "buildah",
        dockerfile: "docker/Dockerfile.prod",
      }),
      {},
    );
    const anonymous = readBuildInputs(
      inputs({
        "build-context": ".",
        registry: "localhost:5000",
        "image-name": "web",
        "image-tag": "v2",
      }),
      {},
    );

    expect(withPassword).toMatchObject({
      ok: true,
      build: {
        auth: { kind: "password", username: "bot", password: "pat-value" },
        builder: "buildah",
        dockerfile: "docker/Dockerfile.prod",
        tag: "v2",
      },
    });
    expect(anonymous).toMatchObject({ ok: true, build: { auth: { kind: "none" } } });
  });

  test("every mistake is reported against the input it is about", () => {
    const result = readBuildInputs(
      inputs({
        "build-context": "app",
        image: "nginx:1.27",
        registry: "https://myacr.azurecr.io/",
        "image-name": "Team/Web:latest",
        "build-args": "VERSION=1\nnot a pair\n",
        builder: "kaniko",
        "registry-username": "bot",
      }),
      {},
    );

    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors.map((error) => error.input).sort()).toEqual(
      [
        "build-args",
        "build-context",
        "builder",
        "image-name",
        "image-tag",
        "registry",
        "registry-password",
      ].sort(),
    );
    expect(errors.find((error) => error.input === "build-context")?.message).toMatch(
      /`image` must be empty/,
    );
    expect(errors.find((error) => error.input === "registry")?.message).toMatch(
      /without a scheme or a path/,
    );
    expect(errors.find((error) => error.input === "image-name")?.message).toMatch(
      /put the tag in `image-tag`/,
    );
    expect(errors.find((error) => error.input === "build-args")?.message).toMatch(/line 2/);
    expect(errors.find((error) => error.input === "builder")?.message).toMatch(
      /must be one of auto, docker, podman, buildah, acr/,
    );
  });

  test("an acr build needs an Azure Container Registry, and a registry host does not belong in image-name", () => {
    const result = readBuildInputs(
      inputs({
        "build-context": ".",
        registry: "ghcr.io",
        "image-name": "myacr.azurecr.io/web",
        builder: "acr",
      }),
      { commitSha: COMMIT },
    );

    expect(result).toEqual({
      ok: false,
      errors: [
        {
          input: "image-name",
          message: expect.stringContaining("put the registry host in `registry`"),
        },
        { input: "builder", message: expect.stringContaining("ghcr.io is not one") },
      ],
    });
  });
});

describe("the build inputs in the schema", () => {
  test("are all in the Image group, with the password the only secret and auto the default builder", () => {
    const BUILD = new Set([
      "build-context",
      "dockerfile",
      "build-args",
      "registry",
      "image-name",
      "image-tag",
      "registry-username",
      "registry-password",
      "builder",
    ]);
    const IMAGE_INPUTS = INPUTS.filter((input) => BUILD.has(input.name));
    expect(IMAGE_INPUTS.map((input) => input.name)).toEqual([
      "build-context",
      "dockerfile",
      "build-args",
      "registry",
      "image-name",
      "image-tag",
      "registry-username",
      "registry-password",
      "builder",
    ]);
    expect(
      IMAGE_INPUTS.every((input) => input.group === "Image" && input.description.length > 0),
    ).toBe(true);
    expect(IMAGE_INPUTS.filter((input) => input.secret).map((input) => input.name)).toEqual([
      "registry-password",
    ]);
    expect(IMAGE_INPUTS.find((input) => input.name === "builder")?.default).toBe("auto");
  });
});
