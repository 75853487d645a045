import { execFile, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";

const ROOT = resolve(import.meta.dirname, "..", "..");
const run = promisify(execFile);

/** Runs `duckform …` as a user would (bin/duckform.js in a child process) and reports what they would see. */
export async function duckform(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [resolve(ROOT, "bin/duckform.js"), ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** `duckform …` as above, under GNU time (scripts/testDependencies.sh installs it), with the peak RSS it reports. */
export function timedDuckform(args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string; peakMb: number } {
  const child = spawnSync("/usr/bin/time", ["-f", "peak-rss-kb %M", process.execPath, resolve(ROOT, "bin/duckform.js"), ...args], {
    cwd,
    encoding: "utf8",
  });
  const peak = /peak-rss-kb (\d+)/.exec(child.stderr);
  return {
    status: child.status,
    stdout: child.stdout,
    stderr: child.stderr.replace(/(Command exited with non-zero status \d+\n)?peak-rss-kb \d+\n/, ""),
    peakMb: Number(peak?.[1]) / 1024,
  };
}
