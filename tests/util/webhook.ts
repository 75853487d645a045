import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";

const servers: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (servers.length > 0) await servers.pop()!();
});

/** A Slack-compatible incoming webhook on 127.0.0.1 that keeps what it is posted; closed after the test. */
export async function mockWebhook(): Promise<{ url: string; posts: { text: string }[] }> {
  const posts: { text: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      posts.push(JSON.parse(body) as { text: string });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/x`, posts };
}
