/** Driving the bridge's page in Chromium: open an image by typing its path, as a browser user does. */
import type { Page } from 'playwright-core';
import type { RunEvent } from '../common/contract.js';
import type { Driver } from './flows.js';

export function bridgeDriver(page: Page, events?: readonly RunEvent[]): Driver {
  return {
    page,
    ...(events ? { events: () => events } : {}),
    open: async (path) => {
      await page.getByRole('textbox', { name: 'Image path' }).fill(path);
      await page.getByRole('button', { name: 'Open image' }).click();
    },
  };
}
