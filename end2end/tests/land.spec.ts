// Landing a workspace from its Changes tab (SPEC §8): the person commits what "the agent"
// (this test) wrote, with the task's title as the message, merges it as one squashed
// commit after saying yes, and the task moves to completed on the board of a second tab,
// which has an "in review" column. A merge that would conflict lists the file and offers
// "Rebase" and "Resolve with agent", which starts a session on the workspace. Push says
// when there is no remote; a pull request is offered where the server's `gh` can open one.
import { test, expect, gitRepo, open, project, freePort, Server } from "./fixtures";
import type { Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const column = (page: Page, name: string) =>
  page.getByRole("group", { name: "Board" }).getByRole("region", { name: `${name} column` });
const card = (page: Page, col: string, title: string) => column(page, col).getByRole("listitem", { name: title });

/** A git project with one task, a session in its workspace, and that session's Changes tab open in `page`. */
async function changesTab(page: Page, server: any, title: string) {
  const repo = gitRepo({ "README.md": "one\ntwo\nthree\n" });
  const p = await project(server, "Land");
  await server.api("PATCH", `/projects/${p.id}`, { basePath: repo });
  const task = await server.api("POST", "/tasks", { projectId: p.id, title });
  const ws = await server.api("POST", "/workspaces", { taskId: task.id });
  await server.api("POST", "/sessions", { projectId: p.id, taskIds: [task.id], name: "agent", workspace: ws.id });
  await open(page, `/projects/${p.id}`);
  await page.getByRole("button", { name: `Details of ${title}` }).click();
  await page.getByRole("button", { name: "Jump to session agent" }).click();
  const tabs = page.getByRole("tablist", { name: "Session view" });
  await tabs.getByRole("tab", { name: /Changes/ }).click();
  return { repo, p, task, ws };
}

test("commit and merge from the Changes tab; the task completes on a second tab's board", async ({
  page,
  server,
}) => {
  const { repo, p, task, ws } = await changesTab(page, server, "Add a greeting");
  fs.writeFileSync(path.join(ws.path, "greeting.txt"), "hello\n");
  const land = page.getByRole("form", { name: "Land this workspace" });
  await expect(page.getByRole("list", { name: "Changed files" }).getByRole("button", { name: /greeting\.txt/ })).toBeVisible();

  // A second tab on the board: the session made the task in progress; "in review" is a column.
  const other = await page.context().newPage();
  await open(other, `/projects/${p.id}`);
  await other.getByRole("group", { name: "View" }).getByRole("button", { name: "Board" }).click();
  await expect(card(other, "in progress", "Add a greeting")).toBeVisible();
  await expect(column(other, "in review")).toBeVisible();

  // Commit: the task's title is the message unless the person types another; what is typed
  // stays when another session is shown and this one again.
  const message = land.getByRole("textbox", { name: "Commit message" });
  await expect(message).toHaveValue("Add a greeting");
  await message.fill("Greet the reader");
  await page.getByRole("button", { name: "New terminal" }).click();
  await expect(land).toHaveCount(0);
  await page.getByRole("navigation", { name: "Sessions" }).getByRole("button", { name: "agent", exact: true }).click();
  await page.getByRole("tablist", { name: "Session view" }).getByRole("tab", { name: /Changes/ }).click();
  await expect(message).toHaveValue("Greet the reader");
  await message.fill("Add a greeting");
  await land.getByRole("button", { name: "Commit" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Committed on ${ws.branch}.` })).toBeVisible();
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo }).toString().trim();
  expect(git("log", "-1", "--format=%s", ws.branch)).toBe("Add a greeting");

  // Merge, squashed: it asks first, and Cancel changes nothing.
  await land.getByRole("combobox", { name: "Merge strategy" }).selectOption("squash");
  await land.getByRole("button", { name: "Merge into main" }).click();
  const confirm = page.getByRole("group", { name: "Confirm" });
  await expect(confirm).toContainText(`Merge ${ws.branch} into main as one squashed commit?`);
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toHaveCount(0);
  expect(git("log", "-1", "--format=%s", "main")).toBe("start");
  await land.getByRole("button", { name: "Merge into main" }).click();
  await confirm.getByRole("button", { name: "Yes, merge" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Merged into main." })).toBeVisible();
  expect(git("log", "-1", "--format=%s %P", "main").split(" ").length).toBe(4); // "Add a greeting" + one parent
  expect(fs.readFileSync(path.join(repo, "greeting.txt"), "utf8")).toBe("hello\n");

  // The second tab's board: completed, without a reload.
  await expect(card(other, "completed", "Add a greeting")).toBeVisible();
  await expect(card(other, "in progress", "Add a greeting")).toHaveCount(0);
  expect((await server.api("GET", `/tasks/${task.id}`)).status).toBe("completed");
  await other.close();
});

test("a merge that would conflict lists the file and offers rebase and an agent to resolve it", async ({
  page,
  server,
}) => {
  test.info().annotations.push({ type: "refused-request" });
  const { repo, task, ws } = await changesTab(page, server, "Shout two");
  fs.writeFileSync(path.join(ws.path, "README.md"), "one\nTWO (agent)\nthree\n");
  const land = page.getByRole("form", { name: "Land this workspace" });
  await land.getByRole("textbox", { name: "Commit message" }).fill("Shout two loudly");
  await expect(land.getByRole("button", { name: "Commit" })).toBeEnabled();
  await land.getByRole("button", { name: "Commit" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Committed on" })).toBeVisible();
  // The person changes the same line on main meanwhile.
  fs.writeFileSync(path.join(repo, "README.md"), "one\nTWO (person)\nthree\n");
  execFileSync("git", ["commit", "-qam", "person"], { cwd: repo });
  const before = execFileSync("git", ["rev-parse", "main"], { cwd: repo }).toString();

  await land.getByRole("button", { name: "Merge into main" }).click();
  await page.getByRole("group", { name: "Confirm" }).getByRole("button", { name: "Yes, merge" }).click();
  const refused = page.getByRole("alert").filter({ hasText: "conflict" });
  await expect(refused.getByRole("list", { name: "Conflicting files" })).toHaveText("README.md");
  expect(execFileSync("git", ["rev-parse", "main"], { cwd: repo }).toString()).toBe(before);

  // "Rebase onto main first" asks, as the bar's own; the rebase conflicts in its turn and
  // lists the file with the agent as the way out.
  await refused.getByRole("button", { name: "Rebase onto main first" }).click();
  const confirm = page.getByRole("group", { name: "Confirm" });
  await expect(confirm).toContainText(`Rebase ${ws.branch} onto main?`);
  await confirm.getByRole("button", { name: "Yes, rebase" }).click();
  const rebaseRefused = page.getByRole("alert").filter({ hasText: "rebasing onto main would conflict" });
  await expect(rebaseRefused.getByRole("list", { name: "Conflicting files" })).toHaveText("README.md");
  await expect(rebaseRefused.getByRole("button", { name: "Rebase onto main first" })).toHaveCount(0);
  await expect(refused.getByRole("button", { name: "Resolve with agent" })).toBeVisible();

  // "Resolve with agent": a session on the same workspace, told which files conflict.
  await refused.getByRole("button", { name: "Resolve with agent" }).click();
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  await expect(sessions.getByRole("listitem").filter({ hasText: `Resolve conflicts in ${ws.branch}` })).toBeVisible();
  const made = (await server.api("GET", `/sessions?taskId=${task.id}`)) as any[];
  const resolving = made.find((s) => s.name.startsWith("Resolve conflicts"));
  expect(resolving.workspaceId).toBe(ws.id);
  expect(resolving.prompt).toContain("- README.md");
});

test("deleting a task with an active workspace says so at once and deletes nothing", async ({ page, server }) => {
  const { task, ws } = await changesTab(page, server, "Keep my work");
  const row = page.getByRole("list", { name: "Tasks" }).getByRole("listitem", { name: "Keep my work" });
  await row.getByRole("button", { name: "Delete task" }).click();
  await expect(page.getByRole("alert").filter({ hasText: `active workspace (${ws.branch})` })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "deleted" })).toHaveCount(0);
  await expect(row).toBeVisible();
  expect((await server.api("GET", `/tasks/${task.id}`)).title).toBe("Keep my work");
});

test("Push says at once that the repository has no remote, and pushes once one is added", async ({ page, server }) => {
  const { repo, ws } = await changesTab(page, server, "Share it");
  const land = page.getByRole("form", { name: "Land this workspace" });
  const push = land.getByRole("button", { name: "Push", exact: true });
  await expect(push).toHaveAttribute("title", /no remote/);
  await push.click();
  await expect(page.getByRole("alert").filter({ hasText: "no remote" })).toBeVisible();
  await expect(page.getByRole("group", { name: "Confirm" })).toHaveCount(0);

  // The person adds one (in a terminal, say): asked again, the bar names it and pushes there.
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), "maestro-e2e-remote-"));
  try {
    execFileSync("git", ["init", "-q", "--bare", bare]);
    execFileSync("git", ["remote", "add", "origin", bare], { cwd: repo });
    await push.click();
    const confirm = page.getByRole("group", { name: "Confirm" });
    await expect(confirm).toContainText(`Push ${ws.branch} to origin?`);
    await expect(page.getByRole("alert").filter({ hasText: "no remote" })).toHaveCount(0);
    await expect(push).toHaveAttribute("title", "Push the branch to origin");
    await confirm.getByRole("button", { name: "Yes, push" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Pushed ${ws.branch}.` })).toBeVisible();
    const tip = (dir: string[]) => execFileSync("git", [...dir, "rev-parse", ws.branch]).toString().trim();
    expect(tip(["--git-dir", bare])).toBe(tip(["-C", repo]));
  } finally {
    fs.rmSync(bare, { recursive: true, force: true });
  }
});

test("where the server's gh can, a pull request is pushed and opened from the Changes tab", async ({ page, context }) => {
  // A server of its own whose `gh` is a stand-in: logged in, and answering `pr create` with
  // an address after checking that the branch it names was pushed.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "maestro-e2e-pr-"));
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), "maestro-e2e-remote-"));
  const gh = path.join(dataDir, "gh");
  fs.writeFileSync(
    gh,
    `#!/bin/sh
case "$1 $2" in
  "auth status") exit 0 ;;
  "pr create") git --git-dir="${bare}" rev-parse --verify -q "refs/heads/$5" >/dev/null || exit 1
    echo "https://github.com/example/repo/pull/7" ;;
  *) exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  const server = new Server(await freePort(), dataDir);
  server.env = { MAESTRO_GH: gh };
  await server.start();
  try {
    await server.login(context);
    execFileSync("git", ["init", "-q", "--bare", bare]);
    const repo = gitRepo({ "README.md": "one\n" });
    execFileSync("git", ["remote", "add", "origin", bare], { cwd: repo });
    const p = await project(server, "Propose");
    await server.api("PATCH", `/projects/${p.id}`, { basePath: repo });
    const task = await server.api("POST", "/tasks", { projectId: p.id, title: "Propose a change" });
    const ws = await server.api("POST", "/workspaces", { taskId: task.id });
    await server.api("POST", "/sessions", { projectId: p.id, taskIds: [task.id], name: "agent", workspace: ws.id });
    fs.writeFileSync(path.join(ws.path, "idea.txt"), "an idea\n");
    await open(page, `${server.url}/projects/${p.id}`);
    await page.getByRole("button", { name: "Details of Propose a change" }).click();
    await page.getByRole("button", { name: "Jump to session agent" }).click();
    await page.getByRole("tablist", { name: "Session view" }).getByRole("tab", { name: /Changes/ }).click();
    const land = page.getByRole("form", { name: "Land this workspace" });
    await land.getByRole("button", { name: "Commit" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Committed on ${ws.branch}.` })).toBeVisible();

    // Offered (this server's gh is logged in); it asks first, then pushes and opens it.
    await land.getByRole("button", { name: "Open pull request" }).click();
    const confirm = page.getByRole("group", { name: "Confirm" });
    await expect(confirm).toContainText(`Push ${ws.branch} and open a pull request on GitHub?`);
    await confirm.getByRole("button", { name: "Open it" }).click();
    await expect(
      page.getByRole("status").filter({ hasText: "Pull request opened: https://github.com/example/repo/pull/7" }),
    ).toBeVisible();
    const pushed = execFileSync("git", ["--git-dir", bare, "log", "-1", "--format=%s", ws.branch]).toString().trim();
    expect(pushed).toBe("Propose a change");
  } finally {
    await server.stop();
    for (const dir of [dataDir, bare]) fs.rmSync(dir, { recursive: true, force: true });
  }
});
