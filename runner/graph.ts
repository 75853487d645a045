/**
 * The parts of Dataform's CompiledGraph (core.proto) that duckform reads, as decoded with
 * enums as strings and defaults filled in.
 */

export interface Target {
  database: string;
  schema: string;
  name: string;
}

interface ActionBase {
  target: Target;
  /** Set for actions whose SQL core compiles just in time, against a live warehouse. */
  jitCode?: string;
  canonicalTarget: Target;
  dependencyTargets: Target[];
  disabled: boolean;
  tags: string[];
  fileName: string;
  actionDescriptor?: { description?: string; columns?: unknown[] } | null;
}

export type TableType = "TABLE" | "INCREMENTAL" | "VIEW" | "UNKNOWN_TYPE";
export type OnSchemaChange = "IGNORE" | "FAIL" | "EXTEND" | "SYNCHRONIZE";

export interface Table extends ActionBase {
  enumType: TableType;
  type: string;
  query: string;
  protected: boolean;
  materialized: boolean;
  where: string;
  incrementalQuery: string;
  uniqueKey: string[];
  onSchemaChange: OnSchemaChange;
  preOps: string[];
  postOps: string[];
  incrementalPreOps: string[];
  incrementalPostOps: string[];
  incrementalStrategy: string;
}

export interface Operation extends ActionBase {
  queries: string[];
  hasOutput: boolean;
}

export interface Assertion extends ActionBase {
  query: string;
  parentAction?: Target | null;
}

export interface Declaration {
  target: Target;
  fileName: string;
  tags: string[];
}

export interface Test {
  name: string;
  testQuery: string;
  expectedOutputQuery: string;
  fileName: string;
  disabled: boolean;
  tags: string[];
}

export interface CompilationError {
  fileName: string;
  actionName: string;
  message: string;
  stack: string;
}

export interface ProjectConfig {
  warehouse: string;
  defaultDatabase: string;
  defaultSchema: string;
  assertionSchema: string;
  schemaSuffix: string;
  databaseSuffix: string;
  tablePrefix: string;
  vars: Record<string, string>;
}

export interface CompiledGraph {
  projectConfig: ProjectConfig;
  tables: Table[];
  operations: Operation[];
  assertions: Assertion[];
  declarations: Declaration[];
  tests: Test[];
  /** BigQuery notebooks and data preparations: listed so a run can say it skips them. */
  notebooks?: { target: Target; fileName: string }[];
  dataPreparations?: { target: Target; fileName: string }[];
  graphErrors: { compilationErrors: CompilationError[] };
  dataformCoreVersion: string;
  targets: Target[];
}

/** `schema.name`, or `database.schema.name`: Dataform's readable action name. */
export function targetName(target: Target): string {
  return [target.database, target.schema, target.name].filter(Boolean).join(".");
}
