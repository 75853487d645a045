import { describe, expect, it } from "vitest";
import { defineMatchMacros } from "../../privacy/match.ts";
import { personIdentifiers } from "../../privacy/people.ts";
import { tempDatabase } from "../util/tmp.ts";

/**
 * Three people of the bundled sample whose names collide: Priya Ali's Slack display name is
 * "Priya", which is Priya Larsen's Telegram name; Priya Ortega shows as "Priya" on Telegram too.
 */
async function people() {
  const db = await tempDatabase();
  await db.withConnection(async (c) => {
    await c.run(`
      create schema seeds; create schema silver; create schema bronze;
      create table seeds.users as select * from (values
        ('user_0036', 'priya.ali@northwind.example', 'Priya Ali', 'Priya Ali', 'U0BD8FC5A1'),
        ('user_0066', 'priya.larsen@orbit-logistics.example', 'Priya Larsen', 'Priya', null),
        ('user_0221', 'priya.ortega@kestrel-health.example', 'Priya Ortega', 'Priya', 'U0449BBCE4'))
        t(user_id, email, display_name, telegram_name, slack_user_id);
      create table silver.int_users as select user_id as user_key, * from seeds.users;
      create table silver.int_user_identities as select * from (values
        ('user_0036', 'user_0036', 'Priya Ali', 'Priya Ali', 'priya.ali@northwind.example'),
        ('user_0036', 'user_0036', 'U0BD8FC5A1', 'Priya', 'priya.ali@northwind.example'),
        ('user_0066', 'user_0066', 'Priya', 'Priya', null))
        t(user_key, user_id, identity, display_name, email);
      create table bronze.stg_slack__users as select * from (values
        ('U0BD8FC5A1', 'priya.ali', 'Priya', 'priya.ali@northwind.example'),
        ('U0449BBCE4', 'priya.o', 'Priya Ortega', 'priya.ortega@kestrel-health.example'))
        t(slack_user_id, slack_handle, display_name, email);
      create table bronze.stg_hubspot__contacts as select * from (values
        ('51000000009', 'priya.ali@northwind.example', 'Priya', 'Ali'))
        t(hubspot_contact_id, email, first_name, last_name);
    `);
  });
  return db;
}

/** The match macros are temporary, so they are defined on the connection that uses them. */
const identify = (db: Awaited<ReturnType<typeof people>>, who: string) =>
  db.withConnection(async (c) => {
    await defineMatchMacros(c);
    return personIdentifiers(c, "duckform", who);
  });

describe("personIdentifiers", () => {
  it("gives the person's own identifiers, HubSpot's included, and keeps back a name someone else has too", async () => {
    const db = await people();
    try {
      const person = await identify(db, "priya.ali@northwind.example");
      expect(person.keys).toContain("user_0036");
      expect(person.values).toEqual(
        expect.arrayContaining(["user_0036", "priya.ali@northwind.example", "Priya Ali", "U0BD8FC5A1", "priya.ali", "51000000009"]),
      );
      // "Priya" is also Priya Larsen's and Priya Ortega's Telegram name: forgetting it would delete their rows.
      expect(person.values).not.toContain("Priya");
      expect(person.shared).toEqual(["Priya"]);
    } finally {
      db.close();
    }
  });

  it("refuses a name that several people have, and names them", async () => {
    const db = await people();
    try {
      await expect(identify(db, "Priya")).rejects.toThrow(
        /"Priya" names 3 people \(user_0036, user_0066, user_0221\): give one of their user ids or e-mails; nothing was changed/,
      );
    } finally {
      db.close();
    }
  });
});
