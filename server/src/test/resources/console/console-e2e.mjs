// Drives the web console in headless Chromium with Playwright: signs in, sees the running machine, follows its log,
// sees its stats plotted, stops it, finds the stop in the audit log, cordons and uncordons the node, signs out; then
// signs in as the namespace's tenant, who sees only its namespace and no admin pages.
// Run by ConsoleBrowserTest, which starts the control plane and answers the node's side. Environment:
//   PLAYWRIGHT  path of playwright-core's index.mjs     CHROMIUM   the browser's executable
//   BOLERO_URL  the server                              BOLERO_TOKEN  an admin token (never printed)
//   BOLERO_NAMESPACE, BOLERO_MACHINE_NAME               the running machine to find
//   BOLERO_TENANT_TOKEN  a token of that namespace      BOLERO_OTHER_NAMESPACE  one the tenant must not see
//   LOG_LINE    a line the machine's log has            SCREENSHOTS   a directory for the pictures
// Every wait is Playwright's (an element's state); a step that does not happen fails at Playwright's timeout.
import {pathToFileURL} from 'node:url';
import {join} from 'node:path';

const env = process.env;
const {chromium} = await import(pathToFileURL(env.PLAYWRIGHT).href);
const url = env.BOLERO_URL;
const token = env.BOLERO_TOKEN;
const tenantToken = env.BOLERO_TENANT_TOKEN;
const ns = env.BOLERO_NAMESPACE;
const machineName = env.BOLERO_MACHINE_NAME;

const problems = [];
let step = 'launch';
const browser = await chromium.launch({executablePath: env.CHROMIUM});
const context = await browser.newContext({viewport: {width: 1280, height: 900}});
const page = await context.newPage();
page.setDefaultTimeout(60_000);
page.on('pageerror', e => problems.push(`${step}: page error: ${e.message}`));
page.on('console', m => {
  if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) {
    problems.push(`${step}: ${m.text()}`);
  }
});
page.on('request', r => {
  if (r.url().includes(token) || r.url().includes(tenantToken)) {
    problems.push(`${step}: a token is in the URL of a ${r.method()} request`);
  }
});

function check(condition, what) {
  if (!condition) throw new Error(`${step}: ${what}`);
}

/** Samples of the last hour in the shape of GET …/stats (MachineStats), for the page to plot. */
function stats() {
  const now = Date.now();
  const samples = [];
  let cpu = 0;
  for (let i = 60; i >= 0; i--) {
    cpu += 6 + 4 * Math.sin(i / 6);
    samples.push({time: new Date(now - i * 60_000).toISOString(), cpu: {seconds: cpu},
      memory: {bytes: (180 + 40 * Math.sin(i / 9)) * 1048576, limit_bytes: 512 * 1048576},
      network: {rx_bytes: 1000 * (60 - i), tx_bytes: 700 * (60 - i), rx_packets: 10 * (60 - i),
        tx_packets: 8 * (60 - i)},
      disk: {read_bytes: 4096 * (60 - i), write_bytes: 2048 * (60 - i)}});
  }
  return {machine_id: 'm', samples};
}

try {
  step = 'sign in';
  await page.goto(`${url}/ui/`);
  await page.getByLabel('API token').fill('not-a-token');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByText('That token is not known').waitFor();
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('heading', {name: 'Namespaces'}).waitFor();
  check(await page.evaluate(t => sessionStorage.getItem('bolero.token') === t, token),
    'the token is kept in sessionStorage');
  check(await page.evaluate(() => localStorage.length) === 0, 'nothing is kept in localStorage');
  await page.getByRole('link', {name: 'Nodes'}).waitFor(); // an admin token sees the admin pages

  step = 'see the running machine';
  await page.getByRole('link', {name: ns, exact: true}).click();
  const row = page.locator('tr', {hasText: machineName});
  await row.locator('.badge', {hasText: 'running'}).waitFor();
  await row.getByRole('link', {name: machineName}).click();
  await page.locator('h1 .badge', {hasText: 'running'}).waitFor();
  await page.locator('section', {hasText: 'Events'}).getByText('the workload started').waitFor();
  await page.getByText('No stats for this machine.').waitFor(); // the stats endpoint is not there: a 404

  step = 'plot the stats';
  await page.route(u => u.pathname.endsWith('/stats'), route => route.fulfill({status: 200,
    contentType: 'application/json', body: JSON.stringify(stats())}));
  await page.reload();
  await page.locator('svg.chart.cpu polyline').waitFor();
  await page.locator('svg.chart.memory polyline').waitFor();
  await page.getByText('Memory: ').waitFor();

  step = 'follow the log';
  // As a user would, follow again when the node was slow to pick the stream up (503 after the server's bound).
  for (let attempt = 1; ; attempt++) {
    await page.getByRole('button', {name: 'Follow log'}).click();
    const line = page.locator('pre.log', {hasText: env.LOG_LINE});
    const stopped = page.getByText('the log stopped');
    await line.or(stopped).waitFor();
    if (await line.isVisible()) break;
    check(attempt < 3, `the log is followed within 3 tries: ${await stopped.textContent()}`);
  }
  await page.getByRole('button', {name: 'Stop following'}).waitFor();
  await page.screenshot({path: join(env.SCREENSHOTS, 'console.png'), fullPage: true});

  step = 'stop the machine';
  await page.locator('.head').getByRole('button', {name: 'Stop', exact: true}).click();
  await page.locator('h1 .badge', {hasText: 'stopped'}).waitFor();
  await page.locator('.head').getByRole('button', {name: 'Start', exact: true}).and(page.locator(':enabled')).waitFor();

  step = 'find the stop in the audit log';
  await page.getByRole('link', {name: 'Audit log'}).click();
  await page.locator('tr', {hasText: 'stopMachine'}).getByText('200').waitFor();
  await page.screenshot({path: join(env.SCREENSHOTS, 'audit.png')});
  await page.locator('tr', {hasText: 'stopMachine'}).getByRole('link').click(); // the entry's machine
  await page.locator('h1 .badge', {hasText: 'stopped'}).waitFor();

  step = 'cordon and uncordon the node';
  await page.getByRole('link', {name: 'Nodes'}).click();
  const node = page.locator('tbody tr').first();
  await node.locator('.badge', {hasText: 'ready'}).waitFor();
  check(await node.locator('meter').count() === 2, 'a CPU and a memory bar');
  await page.screenshot({path: join(env.SCREENSHOTS, 'nodes.png')});
  await node.getByRole('button', {name: 'Cordon', exact: true}).click();
  await node.locator('.badge', {hasText: 'cordoned'}).waitFor();
  await node.getByRole('button', {name: 'Uncordon', exact: true}).click();
  await node.locator('.badge', {hasText: 'ready'}).waitFor();

  step = 'sign out';
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByLabel('API token').waitFor();
  check(await page.evaluate(() => sessionStorage.length) === 0, 'signing out forgets the token');

  step = 'sign in as the tenant';
  await page.getByLabel('API token').fill(tenantToken);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('link', {name: ns, exact: true}).waitFor();
  check(await page.getByRole('link', {name: env.BOLERO_OTHER_NAMESPACE, exact: true}).count() === 0,
    'a tenant sees only its namespace');
  check(await page.getByRole('link', {name: 'Nodes'}).count() === 0, 'a tenant has no admin pages');
  await page.locator('tr', {hasText: ns}).getByRole('link', {name: 'fleets'}).click();
  await page.locator('tr', {hasText: 'web'}).getByText('v1').waitFor();
  await page.locator('tr', {hasText: 'web'}).getByRole('link', {name: 'releases'}).click();
  await page.getByRole('heading', {name: 'Releases'}).waitFor();
  await page.locator('tr', {hasText: 'v1'}).locator('.badge', {hasText: 'current'}).waitFor();
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByLabel('API token').waitFor();
  check(problems.length === 0, `no page errors or refused loads:\n${problems.join('\n')}`);
  console.log('console e2e: all steps passed');
} catch (e) {
  await page.screenshot({path: join(env.SCREENSHOTS, 'failure.png'), fullPage: true}).catch(() => {});
  const redact = text => text.replaceAll(token, '<token>').replaceAll(tenantToken, '<tenant token>');
  console.error(redact(`console e2e failed at "${step}": ${e.message}`));
  if (problems.length) console.error(redact(problems.join('\n')));
  process.exitCode = 1;
} finally {
  await browser.close();
}
