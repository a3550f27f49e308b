/** Driving the bridge's page in Chromium: open an image by typing its path, as a browser user does. */
import type { Page } from 'playwright-core';
import type { Driver } from './flows.js';

export function bridgeDriver(page: Page): Driver {
  return {
    page,
    open: async (path) => {
      await page.getByRole('textbox', { name: 'Image path' }).fill(path);
      await page.getByRole('button', { name: 'Open image' }).click();
    },
  };
}
