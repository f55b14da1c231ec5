// Deleting a project in the browser: a question naming what goes (its tasks, ended
// sessions and workspaces) and what stays; refused, with the reason, while a session runs
// or a worktree holds uncommitted work; then everything goes in one step, the page moves
// on, and another tab's picker forgets it.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test, expect, open, project, gitRepo } from "./fixtures";
import type { Page } from "@playwright/test";

async function askToDelete(page: Page) {
  await page.getByRole("button", { name: "Project settings" }).click();
  const settings = page.getByRole("dialog", { name: "Project settings" });
  await settings.getByRole("button", { name: "Delete project…" }).click();
  return { settings, question: settings.getByRole("alertdialog", { name: "Delete project?" }) };
}

test("a project goes with its tasks and sessions after a question; a running session refuses", async ({ page, server }) => {
  // The server refuses the first delete (409): the browser logs it.
  test.info().annotations.push({ type: "refused-request" });
  await project(server, "Kept");
  const gone = await project(server, "Goes");
  const a = await server.api("POST", "/tasks", { projectId: gone.id, title: "First" });
  await server.api("POST", "/tasks", { projectId: gone.id, title: "Second" });
  const ended = await server.api("POST", "/sessions", { projectId: gone.id, taskIds: [a.id], name: "Done agent" });
  await server.api("PATCH", `/sessions/${ended.id}`, { status: "completed" });
  const busy = await server.api("POST", "/sessions", { projectId: gone.id, taskIds: [a.id], name: "Busy agent" });
  await open(page, `/projects/${gone.id}`);
  const other = await page.context().newPage();
  await open(other, `/projects/${gone.id}`);
  const picker = (pg: Page) => pg.getByRole("combobox", { name: "Project" });
  await expect(picker(other).getByRole("option", { name: gone.name })).toHaveCount(1);

  // The question names what goes; a running session is said before, and refused by the server.
  let { settings, question } = await askToDelete(page);
  await expect(question).toContainText(`Delete project “${gone.name}”, its 2 tasks and 1 ended session?`);
  await expect(question).toContainText("Its session “Busy agent” is still running: end it first.");
  await question.getByRole("button", { name: "Delete project" }).click();
  await expect(question.getByRole("alert")).toContainText("“Busy agent”");
  await expect(question.getByRole("alert")).toContainText("end them first");
  expect((await server.fetch(`${server.url}/api/projects/${gone.id}`)).status).toBe(200);

  // Ended: asked again, the question counts it, and the project goes with everything of it.
  await server.api("PATCH", `/sessions/${busy.id}`, { status: "completed" });
  await question.getByRole("button", { name: "Keep it" }).click();
  await settings.getByRole("button", { name: "Delete project…" }).click();
  await expect(question).toContainText(`Delete project “${gone.name}”, its 2 tasks and 2 ended sessions?`);
  await expect(question).not.toContainText("still running");
  await question.getByRole("button", { name: "Delete project" }).click();
  await expect(settings).toBeHidden();
  await expect(page).not.toHaveURL(new RegExp(gone.id));
  await expect(picker(page).getByRole("option", { name: gone.name })).toHaveCount(0);
  await expect(picker(page)).not.toHaveValue(gone.id);
  expect((await server.fetch(`${server.url}/api/projects/${gone.id}`)).status).toBe(404);
  expect((await server.fetch(`${server.url}/api/tasks/${a.id}`)).status).toBe(404);
  expect((await server.fetch(`${server.url}/api/sessions/${busy.id}`)).status).toBe(404);

  // The other tab, showing it, forgets it and moves on.
  await expect(picker(other).getByRole("option", { name: gone.name })).toHaveCount(0);
  await expect(other).not.toHaveURL(new RegExp(gone.id));
});

test("a worktree with uncommitted work stops the deletion; committed, it is removed and its branch stays", async ({ page, server }) => {
  test.info().annotations.push({ type: "refused-request" });
  const repo = gitRepo({ "README.md": "hello\n" });
  fs.writeFileSync(path.join(repo, "notes.txt"), "the person's own\n");
  const p = await server.api("POST", "/projects", { name: `Repo ${Date.now()}`, basePath: repo });
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Fix the login" });
  const w = await server.api("POST", "/workspaces", { taskId: t.id });
  fs.writeFileSync(path.join(w.path, "half-done.txt"), "not yet\n");
  await open(page, `/projects/${p.id}`);

  const { settings, question } = await askToDelete(page);
  await expect(question).toContainText(`Delete project “${p.name}”, its 1 task and 1 workspace?`);
  await expect(question).toContainText(`Nothing in its directory ${repo} is deleted.`);
  await expect(question).toContainText("Their branches stay in the repository.");
  await question.getByRole("button", { name: "Delete project" }).click();
  await expect(question.getByRole("alert")).toContainText("half-done.txt");
  expect(fs.existsSync(path.join(w.path, "half-done.txt"))).toBe(true);

  const git = (...args: string[]) => execFileSync("git", args, { cwd: w.path, stdio: "pipe" }).toString();
  git("add", "-A");
  git("commit", "-qm", "half done");
  await question.getByRole("button", { name: "Delete project" }).click();
  await expect(settings).toBeHidden();
  expect(fs.existsSync(w.path)).toBe(false);
  expect(execFileSync("git", ["branch", "--list", w.branch], { cwd: repo }).toString()).toContain(w.branch);
  expect(fs.readFileSync(path.join(repo, "notes.txt"), "utf8")).toBe("the person's own\n");
});
