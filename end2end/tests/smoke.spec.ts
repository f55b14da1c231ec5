import { test, expect, open, project } from "./fixtures";

test("the page is served, hydrates and creates a project", async ({ page }) => {
  await open(page, "/");
  await expect(page.getByRole("heading", { name: "Maestro", exact: true })).toBeVisible();
  const name = `Smoke ${Date.now()}`;
  const invitation = page.getByRole("textbox", { name: "New project name" });
  if (!(await invitation.isVisible())) await page.getByRole("button", { name: "New project" }).click();
  await invitation.fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  const picker = page.getByRole("combobox", { name: "Project" });
  await expect(picker.locator("option:checked")).toHaveText(name);
  await expect(page).toHaveURL(/\/projects\//);
  // It is the server's state, not the page's: a reload renders it again.
  await page.reload();
  await expect(picker.locator("option:checked")).toHaveText(name);
});

test("the site's files arrive compressed, named by their content, and a returning browser fetches none", async ({
  page,
}) => {
  await open(page, "/");
  const urls: string[] = await page.evaluate(() =>
    [...document.querySelectorAll("link[href], script[src]")].map((e: any) => e.href || e.src),
  );
  const pkg = urls.filter((u) => u.includes("/pkg/"));
  expect(pkg.some((u) => /\/pkg\/maestro\.[\w-]+\.wasm$/.test(u)), pkg.join(" ")).toBe(true);
  expect(pkg.some((u) => /\/pkg\/maestro\.[\w-]+\.css$/.test(u)), pkg.join(" ")).toBe(true);
  for (const u of [...pkg, ...urls.filter((u) => u.includes("/xterm/"))]) {
    for (const encoding of ["br", "gzip"]) {
      const r = await fetch(u, { headers: { "accept-encoding": encoding } });
      expect(r.headers.get("content-encoding"), `${u} (${encoding})`).toBe(encoding);
    }
    const cache = (await fetch(u)).headers.get("cache-control") ?? "";
    expect(cache, u).toContain(/\/pkg\/maestro\./.test(u) ? "immutable" : "no-cache");
  }

  // Coming back, none of the files named by their content is asked of the network.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const cached = new Set<string>();
  const network: string[] = [];
  cdp.on("Network.requestServedFromCache", (e: any) => cached.add(e.requestId));
  cdp.on("Network.responseReceived", (e: any) => {
    const fromCache = cached.has(e.requestId) || e.response.fromDiskCache || e.response.fromPrefetchCache;
    if (/\/pkg\/maestro\./.test(e.response.url) && !fromCache) network.push(e.response.url);
  });
  await open(page, "/");
  expect(network).toEqual([]);
});

test("switching projects changes the URL; back and forward follow it; any other path is a 404 page", async ({
  page,
  server,
}) => {
  const a = await project(server, "Route A");
  const b = await project(server, "Route B");
  await server.api("POST", "/tasks", { projectId: a.id, title: "Only in A" });
  await server.api("POST", "/tasks", { projectId: b.id, title: "Only in B" });
  await open(page, `/projects/${a.id}`);
  const tasks = page.getByRole("list", { name: "Tasks" });
  await expect(tasks).toContainText("Only in A");
  await page.getByRole("combobox", { name: "Project" }).selectOption(b.id);
  await expect(page).toHaveURL(new RegExp(`/projects/${b.id}$`));
  await expect(tasks).toContainText("Only in B");
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/projects/${a.id}$`));
  await expect(tasks).toContainText("Only in A");
  await page.goForward();
  await expect(tasks).toContainText("Only in B");

  // The browser logs the 404 of the page it was sent to.
  test.info().annotations.push({ type: "refused-request" });
  const response = await page.goto(`/projects/${a.id}/nope`);
  expect(response?.status()).toBe(404);
  await expect(page.getByText("Page not found.")).toBeVisible();
});
