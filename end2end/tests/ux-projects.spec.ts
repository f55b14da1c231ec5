// Projects in the browser: deleted after a question naming what goes and what stays (the
// server refuses while tasks or sessions remain, and the page says why); a long name does
// not stretch the picker.
import { test, expect, open, project } from "./fixtures";

test("delete a project after a question; one with tasks is refused with the reason", async ({ page, server }) => {
  // The server refuses the first delete (409): the browser logs it.
  test.info().annotations.push({ type: "refused-request" });
  const keep = await project(server, "Kept");
  const gone = await project(server, "Goes");
  await server.api("POST", "/tasks", { projectId: keep.id, title: "Still here" });
  await open(page, `/projects/${keep.id}`);

  // A project with a task: the server says no, the page says why.
  await page.getByRole("button", { name: "Project settings" }).click();
  let settings = page.getByRole("dialog", { name: "Project settings" });
  await settings.getByRole("button", { name: "Delete project…" }).click();
  let question = settings.getByRole("alertdialog", { name: "Delete project?" });
  await expect(question).toContainText(`Delete the project “${keep.name}” and its settings?`);
  await question.getByRole("button", { name: "Delete project" }).click();
  await expect(question.getByRole("alert")).toContainText("1 task(s)");
  await question.getByRole("button", { name: "Keep it" }).click();
  await expect(settings.getByRole("button", { name: "Delete project…" })).toBeVisible();
  await settings.getByRole("button", { name: "Cancel" }).click();

  // An empty one goes.
  await open(page, `/projects/${gone.id}`);
  await page.getByRole("button", { name: "Project settings" }).click();
  settings = page.getByRole("dialog", { name: "Project settings" });
  await settings.getByRole("button", { name: "Delete project…" }).click();
  question = settings.getByRole("alertdialog", { name: "Delete project?" });
  await question.getByRole("button", { name: "Delete project" }).click();
  await expect(settings).toBeHidden();
  await expect(page.getByRole("combobox", { name: "Project" }).getByRole("option", { name: gone.name })).toHaveCount(0);
  expect((await server.fetch(`${server.url}/api/projects/${gone.id}`)).status).toBe(404);
});

test("a long project name is cut in the picker, whole on hover", async ({ page, server }) => {
  const long = await project(server, "A project whose name goes on and on far beyond what any picker should show".repeat(2));
  await open(page, `/projects/${long.id}`);
  const picker = page.getByRole("combobox", { name: "Project" });
  await expect(picker).toHaveAttribute("title", long.name);
  const box = await picker.boundingBox();
  expect(box!.width).toBeLessThanOrEqual(300);
});
