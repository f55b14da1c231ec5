// `bash scripts/bench-ui.sh` (with the page's benchmark): opening a 5 MB diff in a session's
// Changes tab. A committed file of 50,000 lines, every line then rewritten in the workspace
// (a diff of about 5 MB and 100,000 lines). Prints, as medians of BENCH_RUNS (default 3):
// click on the file → its first rows shown, and a jump to the end → the last line shown.
// It prints numbers; it asserts no time.
import { test, expect, gitRepo, open, project } from "../tests/fixtures";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

test("a 5 MB diff: first rows and the end", async ({ page, server }) => {
  const N = 50_000;
  const line = (i: number, s: string) => `${s} ${String(i).padStart(6, "0")} `.padEnd(49, "x");
  const repo = gitRepo({ "big.txt": Array.from({ length: N }, (_, i) => line(i, "old")).join("\n") + "\n" });
  const p = await project(server, "Diff bench");
  await server.api("PATCH", `/projects/${p.id}`, { basePath: repo });
  const task = await server.api("POST", "/tasks", { projectId: p.id, title: "Rewrite it all" });
  const ws = await server.api("POST", "/workspaces", { taskId: task.id });
  await server.api("POST", "/sessions", { projectId: p.id, taskIds: [task.id], name: "bench", workspace: ws.id });
  fs.writeFileSync(path.join(ws.path, "big.txt"), Array.from({ length: N }, (_, i) => line(i, "new")).join("\n") + "\n");
  const bytes = execFileSync("git", ["diff"], { cwd: ws.path, maxBuffer: 64 << 20 }).length;

  const first: number[] = [], end: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await open(page, `/projects/${p.id}`);
    await page.getByRole("button", { name: "Details of Rewrite it all" }).click();
    await page.getByRole("button", { name: "Jump to session bench" }).click();
    await page.getByRole("tab", { name: /Changes/ }).click();
    const file = page.getByRole("list", { name: "Changed files" }).getByRole("button", { name: /big\.txt/ });
    await expect(file).toContainText(`+${N}`, { timeout: 60_000 });
    const t0 = Date.now();
    await file.click();
    await page.locator(".diff-window .dl").first().waitFor({ timeout: 120_000 });
    first.push(Date.now() - t0);
    const t1 = Date.now();
    await page.getByRole("region", { name: "Diff lines" }).evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator(".dl-add .ln", { hasText: new RegExp(`^${N}$`) }).waitFor({ timeout: 60_000 });
    end.push(Date.now() - t1);
  }
  console.log(
    `diff of ${(bytes / 1048576).toFixed(1)} MB, ${2 * N} lines: click → first rows ${median(first)} ms; ` +
      `jump to the end → last line ${median(end)} ms (medians of ${RUNS})`,
  );
  fs.rmSync(repo, { recursive: true, force: true });
});
