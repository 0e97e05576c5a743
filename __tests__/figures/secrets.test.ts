/**
 * Known secret values through `creds`, `registry-password` and `github-token` on the success,
 * failure, post-step and error paths: none appears in any log, stderr, summary, output, state
 * file, tag, ARM write or GitHub API request, even when the GitHub API echoes the token in its
 * error. `npm run figures` adds the builds from source.
 */
import { leaks, quickScenarios, runSecretScenarios } from "../../scripts/figures/secrets.ts";

test("no secret appears anywhere a user or a later step can read", async () => {
  // The GitHub API echoing the token back in its error included: the token is masked from the start.
  const names = quickScenarios();
  const results = await runSecretScenarios(names);
  expect(results.map((r) => r.path).sort()).toEqual(
    expect.arrayContaining(["error", "failure", "post", "success"]),
  );
  for (const result of results) expect(result.outcome).not.toContain("not the path");
  expect(leaks(results)).toEqual([]);
  const creds = results.filter((r) => r.path !== "error").flatMap((r) => r.secrets);
  expect(creds.filter((s) => s.input === "creds").every((s) => s.masked)).toBe(true);
}, 120_000);
