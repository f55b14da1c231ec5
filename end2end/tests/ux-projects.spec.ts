// Projects in the browser: a long name does not stretch the picker. (Deleting one:
// project-delete.spec.ts.)
import { test, expect, open, project } from "./fixtures";

test("a long project name is cut in the picker, whole on hover", async ({ page, server }) => {
  const long = await project(server, "A project whose name goes on and on far beyond what any picker should show".repeat(2));
  await open(page, `/projects/${long.id}`);
  const picker = page.getByRole("combobox", { name: "Project" });
  await expect(picker).toHaveAttribute("title", long.name);
  const box = await picker.boundingBox();
  expect(box!.width).toBeLessThanOrEqual(300);
});
