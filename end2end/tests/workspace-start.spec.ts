// "Work on task" in a git project (SPEC §8): the session runs in the task's workspace and
// its row shows the branch; "in a new workspace" makes another; a plain terminal starts in
// the project's directory.
import { test, expect, gitRepo, open } from "./fixtures";

test("work on task runs in the task's workspace, shown by its branch", async ({ page, server }) => {
  const repo = gitRepo({ "README.md": "hello\n" });
  const p = await server.api("POST", "/projects", { name: `Git ${Date.now()}`, basePath: repo });
  const task = await server.api("POST", "/tasks", { projectId: p.id, title: "Fix the login" });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Fix the login" });
  await row.getByRole("button", { name: "Details of Fix the login" }).click();
  await row.getByRole("button", { name: "Work on task" }).click();

  // The session's row shows its workspace's branch; its shell runs in the worktree.
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  const branch = sessions.getByLabel(/^branch fix-the-login-/);
  await expect(branch).toHaveCount(1);
  const [w] = await server.api("GET", `/workspaces?taskId=${task.id}`);
  await expect(branch).toHaveText(w.branch.replace(/^maestro\//, ""));
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toBeVisible();
  await screen.click();
  await page.keyboard.type("echo at-$(pwd -P)");
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText(`at-${w.path}`);

  // "in a new workspace": a second attempt on a branch of its own.
  await row.getByRole("checkbox", { name: "in a new workspace" }).check();
  await row.getByRole("button", { name: "Work on task" }).click();
  await expect(sessions.getByLabel(/^branch fix-the-login-/)).toHaveCount(2);
  await expect(row.getByRole("checkbox", { name: "in a new workspace" })).not.toBeChecked();
  expect(await server.api("GET", `/workspaces?taskId=${task.id}`)).toHaveLength(2);
  // A reload shows the branches again (the open sessions' workspaces are fetched).
  await open(page, `/projects/${p.id}`);
  await expect(sessions.getByLabel(/^branch fix-the-login-/)).toHaveCount(2);

  // A plain terminal starts in the project's directory, not the home directory.
  await page.getByRole("button", { name: "New terminal" }).click();
  await expect(screen.locator(".xterm-rows")).toBeVisible();
  await screen.click();
  await page.keyboard.type("echo plain-at-$(pwd -P)");
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText(`plain-at-${repo}`);
});
