import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPrng } from "./prng.ts";
import { companies, people } from "./world.ts";

export interface HubspotSampleManifest {
  files: { companies: string; contacts: string; deals: string };
  companies: number;
  contacts: number;
  deals: number;
  /** Closed Won deals and the sum of their amounts, the planted bad amount left out. */
  won: { deals: number; amount: number };
  planted: {
    /** Record IDs whose row bronze marks invalid, with the reason it gives. */
    invalid: { object: "companies" | "contacts" | "deals"; recordId: string; error: string }[];
    /** A contact row with one field more than its header: quarantined with its line and DuckDB's reason. */
    extraField: { recordId: string };
  };
}

const INDUSTRIES = [
  "Broadcast Media",
  "Computer Software",
  "Hospital & Health Care",
  "Logistics and Supply Chain",
  "E-Learning",
  "Banking",
];
const STAGES = ["Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer"];
const DEAL_STAGES = ["Appointment Scheduled", "Qualified To Buy", "Contract Sent", "Closed Won", "Closed Lost"];

/**
 * Writes `hubspot/`: the CRM's CSV exports of companies, contacts and deals as HubSpot names and
 * writes them (`hubspot-crm-exports-all-<object>-<date>.csv`, quoted fields, a byte-order mark, its
 * column headers and `Associated Company IDs`), one company per customer company of the world,
 * their people as contacts and one or two deals each, with the planted defects the manifest lists.
 */
export function writeSampleHubspot(dir: string, options: { seed: number }): HubspotSampleManifest {
  const prng = createPrng(`hubspot:${options.seed}`);
  const staff = people().filter((p) => p.isInternal);
  const customers = companies.slice(1);
  const companyId = (i: number) => String(18_234_567_801 + i);
  const files = {
    companies: "hubspot-crm-exports-all-companies-2024-12-31.csv",
    contacts: "hubspot-crm-exports-all-contacts-2024-12-31.csv",
    deals: "hubspot-crm-exports-all-deals-2024-12-31.csv",
  };
  const planted: HubspotSampleManifest["planted"] = { invalid: [], extraField: { recordId: "" } };

  const companyRows = customers.map((c, i) => [
    companyId(i),
    // CRM fields carry the spellings the company mapping resolves.
    c.variants[i % c.variants.length]!,
    c.calendarDomain,
    `2023-${String(1 + (i % 12)).padStart(2, "0")}-${String(3 + i).padStart(2, "0")} 09:${String(10 + i).padStart(2, "0")}`,
    staff[1 + (i % 3)]!.displayName,
    INDUSTRIES[i % INDUSTRIES.length]!,
    STAGES[(i + 2) % STAGES.length]!,
    String(prng.int(10, 2000)),
  ]);
  const nameless = String(18_234_567_899);
  companyRows.push([nameless, "", "", "2024-05-01 10:00", "", "", "Lead", ""]);
  planted.invalid.push({ object: "companies", recordId: nameless, error: "missing_name_and_domain" });

  const contactRows: string[][] = [];
  let contactId = 51_000_000_001;
  for (const [i, c] of customers.entries()) {
    for (const p of people().filter((q) => q.canonicalCompany === c.company && !q.isInternal && prng.chance(0.6))) {
      const [first, ...last] = p.displayName.split(" ");
      // HubSpot keeps what was typed: some addresses in another case.
      const email = prng.chance(0.15) ? p.email.replace(/^./, (ch) => ch.toUpperCase()) : p.email;
      contactRows.push([
        String(contactId++),
        first!,
        last.join(" "),
        email,
        STAGES[prng.int(0, 4)]!,
        p.signupDate + " 12:00",
        c.company,
        companyId(i),
      ]);
    }
  }
  const badEmail = contactRows[3]!;
  badEmail[3] = badEmail[3]!.replace("@", " at ");
  planted.invalid.push({ object: "contacts", recordId: badEmail[0]!, error: "bad_email" });
  const extra = contactRows[5]!;
  planted.extraField.recordId = extra[0]!;

  const dealRows: string[][] = [];
  const won = { deals: 0, amount: 0 };
  let dealId = 9_100_000_001;
  for (const [i, c] of customers.entries()) {
    for (let d = 0; d < 1 + (i % 2); d++) {
      const stage = DEAL_STAGES[(i + d * 3) % DEAL_STAGES.length]!;
      const amount = prng.int(20, 400) * 100;
      const created = Date.UTC(2024, (i + d * 4) % 10, 1 + i, 10);
      const closed = created + prng.int(20, 80) * 86_400_000;
      if (stage === "Closed Won") {
        won.deals++;
        won.amount += amount;
      }
      dealRows.push([
        String(dealId++),
        `${c.company} ${d === 0 ? "annual plan" : "add-on seats"}`,
        stage,
        String(amount),
        day(closed) + " 17:00",
        day(created) + " 10:00",
        staff[1 + (i % 3)]!.displayName,
        c.variants.at(-1)!,
        companyId(i),
      ]);
    }
  }
  // A typed-in amount HubSpot kept as text.
  const badAmount = [
    String(dealId),
    "Larkspur pilot",
    "Qualified To Buy",
    "12k",
    "",
    "2024-11-04 10:00",
    staff[1]!.displayName,
    "Larkspur",
    "",
  ];
  dealRows.push(badAmount);
  planted.invalid.push({ object: "deals", recordId: badAmount[0]!, error: "bad_amount" });

  mkdirSync(dir, { recursive: true });
  const header = {
    companies: [
      "Record ID",
      "Company name",
      "Company Domain Name",
      "Create Date",
      "Company owner",
      "Industry",
      "Lifecycle Stage",
      "Number of Employees",
    ],
    contacts: [
      "Record ID",
      "First Name",
      "Last Name",
      "Email",
      "Lifecycle Stage",
      "Create Date",
      "Associated Company",
      "Associated Company IDs",
    ],
    deals: [
      "Record ID",
      "Deal Name",
      "Deal Stage",
      "Amount",
      "Close Date",
      "Create Date",
      "Deal owner",
      "Associated Company",
      "Associated Company IDs",
    ],
  };
  const write = (file: string, head: string[], rows: string[][], extraAt?: string) =>
    writeFileSync(
      join(dir, file),
      "\ufeff" +
        [head, ...rows].map((r) => [...r, ...(r[0] === extraAt ? ["an extra field"] : [])].map(quoted).join(",")).join("\r\n") +
        "\r\n",
    );
  write(files.companies, header.companies, companyRows);
  write(files.contacts, header.contacts, contactRows, extra[0]);
  write(files.deals, header.deals, dealRows);
  return { files, companies: companyRows.length, contacts: contactRows.length, deals: dealRows.length, won, planted };
}

/** HubSpot quotes every field. */
function quoted(field: string): string {
  return `"${field.replace(/"/g, '""')}"`;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
