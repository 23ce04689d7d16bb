// Screenshots of the hosted pages for people to look at (tests/e2e/screenshots/, git-ignored),
// with the two checks every page must pass: no horizontal scrolling at 360 px (a phone), and an
// accessible name on every form control as Chromium's own accessibility tree computes it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const screenshotDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../screenshots');
mkdirSync(screenshotDir, { recursive: true });

const controls = new Set(['textbox', 'searchbox', 'button', 'checkbox', 'radio', 'combobox',
  'listbox', 'spinbutton', 'slider', 'switch', 'menuitem']);

/** The form controls of the page without an accessible name (role and DOM id or value). */
export async function unnamedControls(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    return nodes.filter((n) => !n.ignored && controls.has(n.role?.value) && !String(n.name?.value ?? '').trim())
      .map((n) => `${n.role.value} (backend node ${n.backendDOMNodeId})`);
  } finally {
    await cdp.detach();
  }
}

/**
 * `<name>-desktop.png` (1280 px) and `<name>-360.png` (360 px) of the whole page; asserts no
 * horizontal scrolling at 360 px and no unnamed form control. Leaves the viewport at desktop.
 */
export async function shot(page, name) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(screenshotDir, `${name}-desktop.png`), fullPage: true });
  assert.deepEqual(await unnamedControls(page), [], `${name}: every form control has an accessible name`);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: path.join(screenshotDir, `${name}-360.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, `${name}: no horizontal scrolling at 360 px`);
  await page.setViewportSize({ width: 1280, height: 900 });
}
