import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { loadHubspot } from "../../loaders/hubspot/load.ts";
import { duckform } from "../util/cli.ts";
import { queryRows, tempDatabase, tempDir } from "../util/tmp.ts";

const FIXTURES = resolve(import.meta.dirname, "../fixtures/hubspot-exports");

describe("loadHubspot", () => {
  it("lands each export into the table of its object, by header, with HubSpot's column names as the payload's keys", async () => {
    const db = await tempDatabase();
    const results = await loadHubspot(db, [FIXTURES]);
    expect(results.map((r) => [r.fileName, r.table, r.status, r.rowsLanded, r.rowsQuarantined])).toEqual([
      ["companies-old-export.csv", "hubspot_companies", "landed", 1, 0],
      ["hubspot-crm-exports-all-companies-2024-06-01.csv", "hubspot_companies", "landed", 3, 0],
      ["hubspot-crm-exports-all-contacts-2024-06-01.csv", "hubspot_contacts", "landed", 3, 1],
      ["hubspot-crm-exports-all-deals-2024-06-01.csv", "hubspot_deals", "landed", 4, 0],
    ]);
    const [company] = await queryRows(
      db,
      `select payload from raw.hubspot_companies where _file = 'hubspot-crm-exports-all-companies-2024-06-01.csv' and _line = 4`,
    );
    expect(JSON.parse(String(company!.payload))).toMatchObject({
      "Record ID": "18234567803",
      "Company name": "Tidewater Studios, LLC",
      "Company Domain Name": "tidewater.example",
      "Lifecycle Stage": "Sales Qualified Lead",
      "Phone Number": null,
    });
    // An older export's header variant and its extra column land as they are.
    const [old] = await queryRows(db, `select payload from raw.hubspot_companies where _file = 'companies-old-export.csv'`);
    expect(JSON.parse(String(old!.payload))).toMatchObject({
      Name: "Bluefin Labs GmbH",
      "Website URL": "https://www.bluefin.example/",
      "Custom Score": "7",
    });
    const deals = await queryRows(db, `select payload ->> 'Deal Name' as name from raw.hubspot_deals order by _line`);
    expect(deals.map((d) => d.name)).toContain("Northwind add-on\n(second team)");
    const contacts = await queryRows(db, `select payload ->> 'Last Name' as last from raw.hubspot_contacts order by _line`);
    expect(contacts.map((c) => c.last)).toEqual(["Lee", "Kim", '"JJ" Park']);
    expect(await queryRows(db, "select source_table, _file, _line, raw_line, error from raw.quarantine")).toEqual([
      {
        source_table: "hubspot_contacts",
        _file: "hubspot-crm-exports-all-contacts-2024-06-01.csv",
        _line: 4,
        raw_line:
          '"51000000003","Sam","Ortiz","sam@tidewater.example","","Viktor Khan","Lead","New","2024-02-20 09:00","Tidewater Studios, LLC","18234567803","an extra field"',
        error: "line 4: Expected Number of Columns: 11 Found: 12",
      },
    ]);
    expect((await loadHubspot(db, [FIXTURES])).map((r) => r.status)).toEqual(["skipped", "skipped", "skipped", "skipped"]);
  });

  it("numbers each row by the physical line it starts on, when a quoted note spans lines before it", async () => {
    const dir = tempDir();
    const file = join(dir, "hubspot-crm-exports-all-deals-2024-07-01.csv");
    writeFileSync(
      file,
      [
        '"Record ID","Deal Name","Deal Stage","Amount"',
        '"1","Northwind add-on\n(second team)\nsigned","Closed Won","100"',
        '"2","Kestrel pilot","Contract Sent","200","an extra field"',
        '"3","Tidewater","Closed Lost","300"',
        "",
      ].join("\n"),
    );
    const db = await tempDatabase();
    await loadHubspot(db, [file]);
    expect(await queryRows(db, `select payload ->> 'Record ID' as id, _line from raw.hubspot_deals order by _line`)).toEqual([
      { id: "1", _line: 2 },
      { id: "3", _line: 6 },
    ]);
    expect(await queryRows(db, "select _line, error from raw.quarantine")).toEqual([
      { _line: 5, error: "line 5: Expected Number of Columns: 4 Found: 5" },
    ]);
  });

  it("reads the zip HubSpot mails, and fails a file whose object it cannot tell, naming what it looked for", async () => {
    const db = await tempDatabase();
    const dir = tempDir();
    const zip = join(dir, "hubspot-crm-exports-2024-06-01.zip");
    const deals = join(FIXTURES, "hubspot-crm-exports-all-deals-2024-06-01.csv");
    writeFileSync(zip, zipSync({ "all-deals.csv": new Uint8Array(readFileSync(deals)) }));
    const odd = join(dir, "export.csv");
    writeFileSync(odd, "Record ID,Score\n1,2\n");
    const results = await loadHubspot(db, [zip, odd]);
    expect(results.map((r) => [r.fileName, r.table, r.status, r.rowsLanded])).toEqual([
      ["hubspot-crm-exports-2024-06-01.zip!/all-deals.csv", "hubspot_deals", "landed", 4],
      ["export.csv", "hubspot_companies", "failed", 0],
    ]);
    expect(results[1]!.error).toBe(
      `cannot tell whether ${odd} holds HubSpot companies, contacts or deals: its header (Record ID, Score…) has none of ` +
        '"Deal Stage", "Email", "Company name", and its name none of company, contact, deal; pass --object',
    );
    const forced = await loadHubspot(db, [odd], { object: "contacts" });
    expect(forced.map((r) => [r.table, r.status, r.rowsLanded])).toEqual([["hubspot_contacts", "landed", 1]]);
  });

  it("runs as `duckform load hubspot`, with the rows each table got", async () => {
    const project = tempDir();
    writeFileSync(join(project, "dataform.json"), JSON.stringify({ defaultDatabase: "demo" }));
    const exports = join(project, "exports");
    cpSync(FIXTURES, exports, { recursive: true });
    const result = await duckform(["load", "hubspot", exports, "--project", project]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\(raw\.hubspot_companies 4, raw\.hubspot_contacts 3, raw\.hubspot_deals 4\)\n$/);
    const bad = await duckform(["load", "hubspot", exports, "--project", project, "--object", "tickets"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected one of companies, contacts, deals, got "tickets"');
  }, 30_000);
});
