import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import vm from "node:vm";
import protobuf from "protobufjs";
import { resolveCore, type Core } from "./core.ts";
import { UserError, messageOf } from "./errors.ts";
import type { CompiledGraph } from "./graph.ts";

export interface CompileOptions {
  /** `--vars k=v`: merged over the project's own vars, as `dataform compile --vars` does. */
  vars?: Record<string, string>;
  /** `--schema-suffix S`: appended to every schema, as Dataform's datasetSuffix. */
  schemaSuffix?: string;
  /** Extra ProjectConfig overrides (camelCase field names of Dataform's ProjectConfig). */
  projectConfigOverride?: Record<string, unknown>;
  /** Told which core compiles the project, before it runs. */
  onCore?: (core: Core) => void;
}

/** Files whose source the core compiler turns into JavaScript before they run. */
const COMPILED_EXTENSIONS = new Set([".sqlx", ".sql", ".yaml", ".yml", ".ipynb", ".md"]);
const ourRequire = createRequire(import.meta.url);

/**
 * Compiles a Dataform project in-process with the `@dataform/core` that `resolveCore` chooses
 * (the pinned version, else the project's installed core, else ours). The project's files run in a fresh V8 context with a small
 * CommonJS loader, the way Dataform's CLI runs them in vm2, so every compile starts from a clean
 * session and no project code touches this process's globals.
 */
export function compileProject(projectDir: string, options: CompileOptions = {}): CompiledGraph {
  const dir = realProjectDir(projectDir);
  if (!existsSync(join(dir, "workflow_settings.yaml")) && !existsSync(join(dir, "dataform.json"))) {
    throw new UserError(`${dir} is not a Dataform project: it has neither workflow_settings.yaml nor dataform.json`);
  }
  const core = resolveCore(dir);
  options.onCore?.(core);
  const protos = loadProtos(core.protoDir);
  const loader = new ProjectLoader(dir, core.bundle);

  const override: Record<string, unknown> = { ...options.projectConfigOverride };
  if (options.vars && Object.keys(options.vars).length > 0) override.vars = options.vars;
  if (options.schemaSuffix) override.schemaSuffix = options.schemaSuffix;

  const CoreExecutionRequest = protos.lookupType("dataform.CoreExecutionRequest");
  const CoreExecutionResponse = protos.lookupType("dataform.CoreExecutionResponse");
  const request = CoreExecutionRequest.encode(
    CoreExecutionRequest.fromObject({
      compile: { compileConfig: { projectDir: dir, filePaths: listProjectFiles(dir), projectConfigOverride: override } },
    }),
  ).finish();

  let encoded: string;
  try {
    const coreModule = loader.require("@dataform/core") as { main: (request: string) => string };
    encoded = coreModule.main(Buffer.from(request).toString("base64"));
  } catch (error) {
    if (error instanceof UserError) throw error;
    // Errors outside an action (a broken workflow_settings.yaml, say) escape core's own handling.
    throw new UserError(`compilation failed: ${messageOf(error)}`);
  }
  const response = CoreExecutionResponse.decode(Buffer.from(encoded, "base64"));
  const object = CoreExecutionResponse.toObject(response, {
    enums: String,
    longs: Number,
    defaults: true,
    arrays: true,
    objects: true,
  }) as { compile: { compiledGraph: CompiledGraph } };
  return object.compile.compiledGraph;
}

/** Throws a UserError listing every compilation error with its file. */
export function assertCompiled(graph: CompiledGraph): void {
  const errors = graph.graphErrors?.compilationErrors ?? [];
  if (errors.length === 0) return;
  const lines = errors.map((e) => `  ${e.fileName || "(project)"}: ${e.message}`);
  throw new UserError(`compilation failed with ${errors.length} error${errors.length === 1 ? "" : "s"}:\n${lines.join("\n")}`);
}

function realProjectDir(projectDir: string): string {
  const dir = resolve(projectDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`project directory ${dir} does not exist`);
  }
  return realpathSync(dir);
}

const protoCache = new Map<string, protobuf.Root>();

function loadProtos(protoDir: string): protobuf.Root {
  let root = protoCache.get(protoDir);
  if (!root) {
    root = new protobuf.Root();
    // Imports name files beside core.proto; google/protobuf/* are built into protobufjs.
    root.resolvePath = (_origin, target) => (isAbsolute(target) || protobuf.common.get(target) ? target : join(protoDir, target));
    root.loadSync("core.proto", { keepCase: false });
    root.resolveAll();
    protoCache.set(protoDir, root);
  }
  return root;
}

/**
 * The project files core reads, relative and with `/` separators: everything under
 * definitions/ and includes/ (core ignores other folders, and a project root may hold large
 * data folders that need not be walked).
 */
function listProjectFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (relativeDir: string) => {
    const absolute = join(dir, relativeDir);
    if (!existsSync(absolute)) return;
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk("definitions");
  walk("includes");
  return files.sort();
}

interface LoadedModule {
  exports: unknown;
  id: string;
  filename: string;
  loaded: boolean;
}

/**
 * A minimal CommonJS loader over a fresh V8 context. Requests resolve with Node's own resolver
 * from the requiring file (relative paths, a folder's package.json `main`/`exports` or index.js,
 * node_modules up the tree); a bare name Node cannot find is then looked up under the project
 * root (`require("includes/x")`, and core's own `require("definitions/x.sqlx")`), which is the
 * order of Dataform's vm2 sandbox. `@dataform/core` is always the chosen bundle, so the project,
 * its packages and the compiler share one session.
 */
class ProjectLoader {
  private readonly context: vm.Context;
  private readonly cache = new Map<string, LoadedModule>();
  private readonly projectRequire: NodeJS.Require;
  private compiler?: (code: string, path: string) => string;

  constructor(
    private readonly projectDir: string,
    private readonly coreBundle: string,
  ) {
    this.projectRequire = createRequire(join(projectDir, "index.js"));
    this.context = vm.createContext({
      console,
      Buffer,
      process,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      setImmediate,
      clearImmediate,
      queueMicrotask,
      structuredClone,
      TextEncoder,
      TextDecoder,
      URL,
      URLSearchParams,
    });
    vm.runInContext("globalThis.global = globalThis;", this.context);
  }

  require(request: string, fromFile = join(this.projectDir, "index.js")): unknown {
    if (request === "@dataform/core") return this.load(this.coreBundle);
    const bare = request.startsWith("node:") ? request.slice(5) : request;
    if (builtinModules.includes(bare)) return ourRequire(bare);
    return this.load(this.resolve(request, fromFile));
  }

  private resolve(request: string, fromFile: string): string {
    try {
      return createRequire(fromFile).resolve(request);
    } catch {
      const isBare = !isAbsolute(request) && !/^\.\.?(\/|$)/.test(request);
      if (isBare) {
        try {
          return this.projectRequire.resolve(`./${request}`);
        } catch {
          // fall through to the error below
        }
      }
    }
    const error = new Error(`Cannot find module '${request}' from ${relative(this.projectDir, fromFile) || fromFile}`);
    (error as Error & { code: string }).code = "MODULE_NOT_FOUND";
    throw error;
  }

  private load(filename: string): unknown {
    const cached = this.cache.get(filename);
    if (cached) return cached.exports;
    const module: LoadedModule = { exports: {}, id: filename, filename, loaded: false };
    this.cache.set(filename, module);
    try {
      let code = readFileSync(filename, "utf8");
      if (extname(filename) === ".json") {
        module.exports = JSON.parse(code);
      } else {
        if (COMPILED_EXTENSIONS.has(extname(filename)) && filename.startsWith(this.projectDir + sep)) {
          code = this.compile(code, filename);
        }
        const wrapper = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
          filename,
        }).runInContext(this.context) as (...args: unknown[]) => void;
        const localRequire = Object.assign((request: string) => this.require(request, filename), {
          resolve: (request: string) => this.resolve(request, filename),
        });
        wrapper.call(module.exports, module.exports, localRequire, module, filename, dirname(filename));
      }
      module.loaded = true;
      return module.exports;
    } catch (error) {
      this.cache.delete(filename);
      throw error;
    }
  }

  private compile(code: string, filename: string): string {
    if (!this.compiler) {
      this.compiler = (this.load(this.coreBundle) as { compiler: (code: string, path: string) => string }).compiler;
    }
    return this.compiler(code, filename);
  }
}
