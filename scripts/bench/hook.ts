/**
 * Loaded into the Action's process by `npm run bench` (`NODE_OPTIONS=--import`): appends one JSON
 * line to BENCH_REQUEST_LOG for every outgoing HTTP(S) request (method, host, path, when it
 * started and when its answer came) and for every line the Action prints, all on the Action's own
 * clock. The emulator's ARM journal has neither the token requests nor the checks, nor the phase
 * a call belongs to.
 */
import type { ClientRequest, IncomingMessage } from "node:http";
import { subscribe } from "node:diagnostics_channel";
import { appendFileSync } from "node:fs";

const file = process.env.BENCH_REQUEST_LOG;

if (file) {
  const started = new WeakMap<object, number>();
  const record = (request: ClientRequest, status: number) => {
    const line = {
      type: "request",
      method: request.method,
      // With its port: ARM and Entra ID are told apart by it on the emulator.
      host: String(request.getHeader("host") ?? request.host),
      path: request.path.split("?")[0],
      start: started.get(request) ?? Date.now(),
      end: Date.now(),
      status,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
  subscribe("http.client.request.start", (message) => {
    started.set((message as { request: ClientRequest }).request, Date.now());
  });
  subscribe("http.client.response.finish", (message) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    record(request, response.statusCode ?? 0);
  });
  subscribe("http.client.request.error", (message) => {
    record((message as { request: ClientRequest }).request, 0);
  });

  // Every line the Action prints, with the time it printed it: log groups are its phases.
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const time = Date.now();
    const text = typeof chunk === "string" ? chunk : String(chunk);
    for (const line of text.split("\n").filter(Boolean)) {
      appendFileSync(file, `${JSON.stringify({ type: "line", text: line, time })}\n`);
    }
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
}
