import { chromium, type Browser, type Page } from '@playwright/test';
import { withCamera } from './fixtures';
import { PROXIES } from '../proxies';

/**
 * Browsers for the specs of the proxied stack (scripts/e2e-proxies.sh): a fake camera playing
 * `file`, *.facegate.localhost resolved to Caddy on loopback, Caddy's internal CA accepted.
 * Uncaught page errors and console errors are collected in `errors`. `closeAll` ends them.
 */
export class ProxiedBrowsers {
  private browsers: Browser[] = [];

  async page(file: string, errors: string[]): Promise<Page> {
    const { launchOptions } = withCamera(file);
    const browser = await chromium.launch({ ...launchOptions, args: [...launchOptions.args, PROXIES.resolverRules] });
    this.browsers.push(browser);
    const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    return page;
  }

  async closeAll() {
    for (const browser of this.browsers) await browser.close();
    this.browsers = [];
  }
}
