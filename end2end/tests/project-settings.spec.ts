// A project's directory and workspace settings in the browser (SPEC §8): the directory is
// checked on the server as it is typed, the settings are kept across a reload, and a
// project without a directory says where its agents run.
import { test, expect, gitRepo, open, project } from "./fixtures";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

test("a project made in a git repository keeps its workspace settings across a reload", async ({ page, server }) => {
  // The store refuses a relative directory on purpose below.
  test.info().annotations.push({ type: "refused-request" });
  const repo = gitRepo({ "README.md": "hello\n" });
  execFileSync("git", ["branch", "develop"], { cwd: repo, stdio: "ignore" });
  await project(server, "Another");
  await open(page, "/");
  await page.getByRole("button", { name: "New project" }).click();
  const name = `Repo ${Date.now()}`;
  await page.getByRole("textbox", { name: "New project name" }).fill(name);
  const dir = page.getByRole("textbox", { name: "Directory (optional)" });
  const check = page.getByRole("status", { name: "Directory check" });
  await dir.fill(path.join(repo, "missing"));
  await expect(check).toHaveText("does not exist");
  await dir.fill(repo);
  await expect(check).toHaveText("git repository, branch main");
  await page.getByRole("button", { name: "Create project" }).click();
  const picker = page.getByRole("combobox", { name: "Project" });
  await expect(picker.locator("option:checked")).toHaveText(name);
  await expect(page.getByRole("note", { name: "No directory" })).toHaveCount(0);

  await page.getByRole("button", { name: "Project settings" }).click();
  const dialog = page.getByRole("dialog", { name: "Project settings" });
  await expect(dialog.getByRole("textbox", { name: "Directory" })).toHaveValue(repo);
  await expect(dialog.getByRole("status", { name: "Directory check" })).toHaveText("git repository, branch main");
  const isolation = dialog.getByRole("checkbox", { name: "Give each task its own git worktree" });
  await expect(isolation).toBeChecked();
  await isolation.uncheck();
  const base = dialog.getByRole("combobox", { name: "Base branch" });
  await expect(base.locator("option:checked")).toHaveText("checked-out branch (main)");
  await base.selectOption("develop");
  const setup = dialog.getByRole("textbox", { name: "Setup command" });
  await expect(setup).toHaveAttribute("placeholder", /it has none/);
  await setup.fill("npm ci");

  // A refusal is said in the dialog, and what was typed stays.
  await dialog.getByRole("textbox", { name: "Directory" }).fill("not/absolute");
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expect(dialog.getByRole("alert")).toContainText("absolute");
  await expect(setup).toHaveValue("npm ci");
  await expect(isolation).not.toBeChecked();
  await dialog.getByRole("textbox", { name: "Directory" }).fill(repo);
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expect(dialog).toHaveCount(0);

  await open(page, page.url());
  const saved = (await server.list("/projects")).find((p) => p.name === name);
  expect(saved).toMatchObject({ basePath: repo, isolation: false, baseBranch: "develop", setupCommand: "npm ci" });
  await page.getByRole("button", { name: "Project settings" }).click();
  await expect(dialog.getByRole("checkbox", { name: "Give each task its own git worktree" })).not.toBeChecked();
  await expect(dialog.getByRole("combobox", { name: "Base branch" }).locator("option:checked")).toHaveText("develop");
  await expect(dialog.getByRole("textbox", { name: "Setup command" })).toHaveValue("npm ci");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);
  fs.rmSync(repo, { recursive: true, force: true });
});

test("a project without a directory says where its agents run, and its button opens the settings", async ({
  page,
  server,
}) => {
  const p = await project(server, "Homeless");
  const plain = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "maestro-e2e-plain-")));
  await open(page, `/projects/${p.id}`);
  const notice = page.getByRole("note", { name: "No directory" });
  await expect(notice).toContainText("Agents of this project run in the server's home directory");
  await notice.getByRole("button", { name: "Set a directory" }).click();
  const dialog = page.getByRole("dialog", { name: "Project settings" });
  const check = dialog.getByRole("status", { name: "Directory check" });
  await expect(check).toHaveText("No directory: agents run in the server's home directory");
  await dialog.getByRole("textbox", { name: "Directory" }).fill(plain);
  await expect(check).toHaveText("not a git repository: agents run here, without workspaces");
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(notice).toHaveCount(0);
  expect((await server.api("GET", `/projects/${p.id}`)).basePath).toBe(plain);
  fs.rmSync(plain, { recursive: true, force: true });
});
