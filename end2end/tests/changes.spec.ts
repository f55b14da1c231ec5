// The Changes tab: a session's workspace seen live from a second browser while "the agent"
// (this test) writes into it — new files and counts within a second, the totals on the task
// row, a long diff read in its middle kept in place while the file changes above and below
// the reader, and a binary file that says so. The session is made in the workspace with
// `workspace` in its body (NewSession's field from "Work on task" in a workspace).
import { test, expect, gitRepo, open, project } from "./fixtures";
import type { Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

/** The diff line at the top of the view: old and new numbers, text, and how far it is from the top. */
const topLine = (page: Page) =>
  page.evaluate(() => {
    const box = document.querySelector(".diff-scroll");
    if (!box) return null;
    const r = box.getBoundingClientRect();
    const row = document.elementFromPoint(r.left + 30, r.top + 2)?.closest(".dl");
    if (!row) return null;
    const [old, now] = Array.from(row.querySelectorAll(".ln")).map((n) => n.textContent);
    const text = row.querySelector(".code")?.textContent;
    return { old, now, text, offset: Math.round(row.getBoundingClientRect().top - r.top) };
  });

test("the Changes tab follows the agent's writes in another browser and keeps the reader's line in place", async ({
  page,
  browser,
  server,
}) => {
  test.setTimeout(60_000);
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i + 1}`);
  const repo = gitRepo({ "long.txt": lines.join("\n") + "\n" });

  const p = await project(server, "Changes");
  await server.api("PATCH", `/projects/${p.id}`, { basePath: repo });
  const task = await server.api("POST", "/tasks", { projectId: p.id, title: "Rework the long file" });
  const ws = await server.api("POST", "/workspaces", { taskId: task.id });
  const session = await server.api("POST", "/sessions", {
    projectId: p.id,
    taskIds: [task.id],
    name: "agent at work",
    workspace: ws.id,
  });
  expect(session.workspaceId).toBe(ws.id);

  // The person's tab shows the task list; a second browser opens the session's Changes tab.
  await open(page, `/projects/${p.id}`);
  const second = await browser.newContext();
  await server.login(second);
  const other = await second.newPage();
  await open(other, `/projects/${p.id}`);
  await other.getByRole("button", { name: "Details of Rework the long file" }).click();
  await other.getByRole("button", { name: "Jump to session agent at work" }).click();
  const tabs = other.getByRole("tablist", { name: "Session view" });
  await expect(tabs.getByRole("tab", { name: "Terminal" })).toHaveAttribute("aria-selected", "true");
  await tabs.getByRole("tab", { name: /Changes/ }).click();
  await expect(tabs.getByRole("tab", { name: /Changes/ })).toHaveAttribute("aria-selected", "true");
  await expect(other.getByText("No changes yet.")).toBeVisible();
  // The keyboard moves between the tabs.
  await other.keyboard.press("ArrowLeft");
  await expect(tabs.getByRole("tab", { name: "Terminal" })).toBeFocused();
  await expect(tabs.getByRole("tab", { name: "Terminal" })).toHaveAttribute("aria-selected", "true");
  await other.keyboard.press("End");
  await expect(tabs.getByRole("tab", { name: /Changes/ })).toHaveAttribute("aria-selected", "true");

  // The agent writes: a new file, and every tenth line of the long one.
  const files = other.getByRole("list", { name: "Changed files" });
  fs.writeFileSync(path.join(ws.path, "notes.md"), "# Notes\nfirst\n");
  const changed = lines.map((l, i) => ((i + 1) % 10 === 0 ? `${l} changed` : l));
  fs.writeFileSync(path.join(ws.path, "long.txt"), changed.join("\n") + "\n");
  await expect(files.getByRole("button", { name: /notes\.md/ })).toBeVisible({ timeout: 1_000 });
  await expect(files.getByRole("button", { name: /long\.txt/ })).toContainText("+300 −300", { timeout: 1_000 });
  await expect(tabs.getByRole("tab", { name: "Changes (2)" })).toBeVisible();
  // The task row of the first tab totals them, from its cache.
  const row = page.getByRole("listitem", { name: "Rework the long file" });
  await expect(row.getByLabel(/2 files changed: 302 lines added, 300 deleted/)).toHaveText("+302 −300 · 2 files");

  // The long file's diff, scrolled to its middle.
  await files.getByRole("button", { name: /long\.txt/ }).click();
  const diff = other.getByRole("region", { name: "Diff lines" });
  await expect(diff).toBeVisible();
  await expect(other.locator(".diff-totals")).toHaveText("+300 −300");
  await diff.evaluate((el) => (el.scrollTop = Math.floor(el.scrollHeight / 2) + 7));
  await expect.poll(async () => (await topLine(other))?.old ?? "").toMatch(/^1[45]\d\d$/);
  const before = await topLine(other);

  // The agent adds a line above the reader and one below: the diff follows, the reader's
  // line stays where it was on the screen.
  changed.splice(2995, 0, "inserted below");
  changed.splice(5, 0, "inserted above");
  fs.writeFileSync(path.join(ws.path, "long.txt"), changed.join("\n") + "\n");
  await expect(other.locator(".diff-totals")).toHaveText("+302 −300");
  await expect.poll(() => topLine(other)).toEqual({ ...before!, now: before!.now ? String(Number(before!.now) + 1) : "" });

  // A binary file says so.
  fs.writeFileSync(path.join(ws.path, "image.bin"), Buffer.from([0, 1, 2, 0, 255, 0, 137, 80]));
  await files.getByRole("button", { name: /image\.bin/ }).click();
  await expect(files.getByRole("button", { name: /image\.bin/ })).toContainText("binary");
  await expect(other.getByText("Binary file: there is no text diff to show.")).toBeVisible();

  await second.close();
  fs.rmSync(repo, { recursive: true, force: true });
});
