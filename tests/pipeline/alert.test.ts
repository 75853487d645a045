import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { postAlert, type Alert } from "../../pipeline/alert.ts";

const ALERT: Alert = {
  exitCode: 3,
  verdict: "system failure",
  database: "/srv/w.duckdb",
  report: null,
  stages: ["load events: 1 of 3 files new"],
  failed: [],
};

describe("the alert webhook", () => {
  it("retries a 5xx and then delivers; a webhook that is gone is reported, not thrown", async () => {
    let calls = 0;
    const server = createServer((_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 503 : 200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      expect(await postAlert(url, ALERT, { backoffMs: 10 })).toBeNull();
      expect(calls).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await postAlert(url, ALERT, { attempts: 2, backoffMs: 10 })).toMatch(
      /^alert not sent to the webhook after 2 attempt\(s\): .*ECONNREFUSED/,
    );
  });
});
