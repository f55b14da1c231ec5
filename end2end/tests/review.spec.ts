// Review comments (SPEC §8 "Review"): a comment written on a diff line is a draft kept on
// the server (a reload shows it), and "Send to agent" types it into the waiting fake
// agent's terminal, which repeats the line it read.
import { test, expect, gitRepo, open, project } from "./fixtures";
import * as fs from "node:fs";
import * as path from "node:path";

test("a comment on a diff line survives a reload and reaches the agent's terminal when sent", async ({
  page,
  server,
}) => {
  test.setTimeout(60_000);
  const repo = gitRepo({ "greet.txt": "hello\nworld\n" });
  const p = await project(server, "Review");
  await server.api("PATCH", `/projects/${p.id}`, { basePath: repo });
  const task = await server.api("POST", "/tasks", { projectId: p.id, title: "Greet better", prompt: "Greet" });
  const session = await server.api("POST", "/sessions", {
    projectId: p.id,
    taskIds: [task.id],
    agentId: "fake",
    name: "greeter",
  });
  const ws = await server.api("GET", `/workspaces/${session.workspaceId}`);
  fs.writeFileSync(path.join(ws.path, "greet.txt"), "hello\nbrave new world\n");

  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Greet better" });
  await row.getByRole("button", { name: "Details of Greet better" }).click();
  await row.getByRole("button", { name: "Jump to session greeter" }).click();
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toContainText("press Enter to finish");
  const tabs = page.getByRole("tablist", { name: "Session view" });
  await tabs.getByRole("tab", { name: /Changes/ }).click();
  await page.getByRole("list", { name: "Changed files" }).getByRole("button", { name: /greet\.txt/ }).click();

  // A deleted line is picked by its old number (the number a comment on it names).
  await expect(page.getByRole("button", { name: "Comment on line 2 (deleted)", exact: true })).toHaveText("2");
  // Text being written stays when the range is widened (a shift-click), until cancelled.
  await page.getByRole("button", { name: "Comment on line 1", exact: true }).click();
  await page.getByRole("textbox", { name: "Comment on greet.txt:1" }).fill("Half a thought");
  await page.getByRole("button", { name: "Comment on line 2", exact: true }).click({ modifiers: ["Shift"] });
  await expect(page.getByRole("textbox", { name: "Comment on greet.txt:1-2" })).toHaveValue("Half a thought");
  await page.getByRole("button", { name: "Cancel", exact: true }).click();
  // The added line's number is a button; the comment is written and added with Ctrl+Enter.
  await page.getByRole("button", { name: "Comment on line 2", exact: true }).click();
  const box = page.getByRole("textbox", { name: "Comment on greet.txt:2" });
  await expect(box).toBeFocused();
  await box.fill("Say brave only once.");
  await page.keyboard.press("Control+Enter");
  const comment = page.getByRole("listitem", { name: "Comment on greet.txt:2, draft" });
  await expect(comment).toContainText("Say brave only once.");
  await expect(page.getByRole("button", { name: "Send to agent (1)" })).toBeEnabled();
  // The line is marked in the diff: the mark says the comment, and a click goes to it.
  const mark = page.getByRole("button", { name: "1 comment on line 2", exact: true });
  await expect(mark).toHaveAttribute("title", "Say brave only once.");
  await expect(page.getByRole("button", { name: /comments? on line 1$/ })).toHaveCount(0);
  await mark.click();
  await expect(comment).toBeFocused();

  // A reload keeps the draft.
  await page.reload();
  await page.locator("body[data-hydrated=true]").waitFor();
  if (!(await tabs.getByRole("tab", { name: /Changes/ }).isVisible())) {
    await page.getByRole("navigation", { name: "Sessions" }).getByRole("button", { name: "greeter", exact: true }).click();
  }
  await tabs.getByRole("tab", { name: /Changes/ }).click();
  await page.getByRole("list", { name: "Changed files" }).getByRole("button", { name: /greet\.txt/ }).click();
  await expect(page.getByRole("listitem", { name: "Comment on greet.txt:2, draft" })).toContainText("Say brave only once.");

  // Sent: it becomes sent, and the agent prints what it read.
  await page.getByRole("button", { name: "Send to agent (1)" }).click();
  await expect(page.getByRole("listitem", { name: "Comment on greet.txt:2, sent" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Send to agent (0)" })).toBeDisabled();
  // Resolved, it no longer marks the line.
  await page.getByRole("listitem", { name: "Comment on greet.txt:2, sent" }).getByRole("button", { name: "Resolve" }).click();
  await expect(page.getByRole("listitem", { name: "Comment on greet.txt:2, resolved" })).toBeVisible();
  await expect(mark).toHaveCount(0);
  await tabs.getByRole("tab", { name: "Terminal" }).click();
  await expect(page.locator(".xterm-rows").first()).toContainText("fake agent: heard: Review comments on your changes");
});
