/**
 * A sign-in that Microsoft Entra ID refuses is final: asking again gives the same answer, so the run
 * fails at once, names the sign-in inputs and changes nothing — it used to be retried for about two
 * minutes as if it were a network fault.
 */
import type { Emulator } from "../../emulator/types.ts";
import { armWrites, image, runAction, seedApp, startWorld, visibleLog } from "./harness.ts";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

test.each([
  [
    "a wrong client secret",
    (info: Emulator["info"]) => ({ secret: "wrong~secret", clientId: info.clientId }),
  ],
  [
    "an unknown client id",
    () => ({ secret: "any~secret", clientId: "99999999-9999-4999-8999-999999999999" }),
  ],
])("%s fails at once, names the sign-in inputs, and writes nothing", async (_what, given) => {
  const app = `signin-${Math.random().toString(36).slice(2, 8)}`;
  await seedApp(emulator, app);
  const { info } = emulator;
  const { secret, clientId } = given(info);
  const before = armWrites(emulator).length;
  const started = Date.now();
  const run = await runAction(emulator, {
    inputs: {
      "container-app": app,
      image: image("healthy"),
      "revision-suffix": "v2",
      "client-id": "",
      "tenant-id": "",
      creds: JSON.stringify({ clientId, clientSecret: secret, tenantId: info.tenantId }),
    },
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined },
  });
  expect(run.exitCode).toBe(1);
  // Well under the two minutes a retried refusal took; the run is not slow to say no.
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(run.outputs.result).toBe("failed");
  expect(visibleLog(run)).toContain("AuthenticationFailed");
  expect(visibleLog(run)).toMatch(/Check the sign-in: `client-id` and `tenant-id`.*`creds`/);
  expect(visibleLog(run)).not.toContain(secret);
  expect(armWrites(emulator).length).toBe(before);
});
