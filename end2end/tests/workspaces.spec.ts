// A task's workspaces in its details: what each changed, live; archiving asks before it
// loses uncommitted work, keeps the branch, and restoring brings the worktree back.
import { test, expect, gitRepo, open } from "./fixtures";
import { execFileSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

test("a task's workspace shows its changes live, archives after a question and restores", async ({ page, server }) => {
  test.info().annotations.push({ type: "refused-request" });
  const repo = gitRepo({ "README.md": "hello\n" });
  try {
    const p = await server.api("POST", "/projects", { name: "Repo", basePath: repo });
    const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Parse dates" });
    const w = await server.api("POST", "/workspaces", { taskId: t.id });
    await open(page, `/projects/${p.id}`);
    const row = page.getByRole("listitem", { name: "Parse dates" });
    await row.getByRole("button", { name: "Details of Parse dates" }).click();
    const section = row.getByRole("region", { name: "Workspaces of this task" });
    const item = section.getByRole("listitem").filter({ hasText: w.branch });
    await expect(item).toContainText("0 files +0 −0");
    await expect(item).toContainText("active");

    // The agent writes: the row follows without a reload.
    writeFileSync(join(w.path, "dates.rs"), "fn parse() {}\nfn format() {}\n");
    await expect(item).toContainText("1 file +2 −0");
    await expect(item).toContainText("uncommitted");

    // Archiving would lose the new file: refused, with the choice to lose it.
    await item.getByRole("button", { name: `Archive workspace ${w.branch}` }).click();
    const refusal = item.getByRole("alert");
    await expect(refusal).toBeVisible();
    expect(existsSync(w.path)).toBe(true);
    await refusal.getByRole("button", { name: "Archive anyway, losing uncommitted changes" }).click();
    await expect(item).toContainText("archived");
    await expect.poll(() => existsSync(w.path)).toBe(false);
    const branches = execFileSync("git", ["branch", "--list", w.branch], { cwd: repo }).toString();
    expect(branches).toContain(w.branch);

    // Restored: its worktree is back on the branch, in every tab.
    const second = await page.context().newPage();
    await open(second, `/projects/${p.id}`);
    const other = second.getByRole("listitem", { name: "Parse dates" });
    await other.getByRole("button", { name: "Details of Parse dates" }).click();
    const otherItem = other.getByRole("region", { name: "Workspaces of this task" }).getByRole("listitem");
    await expect(otherItem).toContainText("archived");
    await item.getByRole("button", { name: `Restore workspace ${w.branch}` }).click();
    await expect(item).toContainText("active");
    await expect(otherItem).toContainText("active");
    expect(existsSync(join(w.path, "README.md"))).toBe(true);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});
