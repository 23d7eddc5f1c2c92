// An account's sessions: a new password logs the other devices out at once,
// "Log out everywhere" ends every session, this one too, a logout made
// offline reaches the server once it is back, and starting never waits for
// the server to say who is signed in.
import { test, expect, signUp, uniqueName, waitForOfflineShell, PASSWORD } from './fixtures.mjs';

const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;

/** Logs `name` in on a new device (a browser context of its own). */
async function logIn(browser, server, name, password) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expect(page.locator('.me-name')).toHaveText(name);
  return { context, page };
}

const signedOut = (page) => expect(page.getByRole('button', { name: 'Create account' })).toBeVisible();

test('a new password logs the other devices out; log out everywhere ends all', async ({ browser, server }) => {
  const name = uniqueName('ann');
  const laptop = await signUp(browser, server, name);
  const phone = await logIn(browser, server, name, PASSWORD);

  await laptop.page.getByRole('button', { name: 'Your profile' }).click();
  const form = laptop.page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password').fill('a much better one');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('alert')).toHaveText('That is not your current password.');
  await form.getByLabel('Current password').fill(PASSWORD);
  await form.getByLabel('New password').fill('a much better one');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('status')).toHaveText('Password changed. Your other devices are logged out.');
  await laptop.page.screenshot({ path: shot('password-changed') });
  // The phone is out at once; the laptop stays in.
  await signedOut(phone.page);
  await expect(laptop.page.locator('.me-name')).toHaveText(name);

  // The new password works on the phone; then everywhere ends both.
  await phone.context.close();
  const again = await logIn(browser, server, name, 'a much better one');
  await laptop.page.getByRole('button', { name: 'Log out' }).click();
  await laptop.page.getByRole('dialog', { name: 'Log out' }).getByRole('button', { name: 'Log out everywhere' }).click();
  await signedOut(laptop.page);
  await signedOut(again.page);

  await laptop.context.close();
  await again.context.close();
});

test('a logout made offline is sent once the network is back', async ({ browser, server }) => {
  const name = uniqueName('ann');
  const ann = await signUp(browser, server, name);
  await waitForOfflineShell(ann.page);
  const [cookie] = (await ann.context.cookies()).filter((c) => c.name === 'natter_session');
  // Asked from outside the browser, with the session's cookie.
  const sessionUser = async () => {
    const response = await fetch(`${server.url}/api/session`, { headers: { cookie: `natter_session=${cookie.value}` } });
    return (await response.json()).user;
  };

  await ann.context.setOffline(true);
  await ann.page.getByRole('button', { name: 'Log out', exact: true }).click();
  await ann.page.getByRole('dialog', { name: 'Log out' }).getByRole('button', { name: 'Log out', exact: true }).click();
  await signedOut(ann.page);
  // The server has not heard yet, and a reload offline stays signed out.
  expect(await sessionUser()).not.toBeNull();
  await ann.page.reload();
  await signedOut(ann.page);

  // Back online, the logout goes out by itself.
  await ann.context.setOffline(false);
  await expect.poll(sessionUser).toBeNull();
  await ann.page.reload();
  await signedOut(ann.page);
  await ann.context.close();
});

test('the sign-in form and a signed-in start do not wait for the server to answer', async ({ browser, server }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // The server's answer to "who is signed in?" is held back until released.
  let release = () => {};
  await page.route('**/api/session', async (route) => {
    await new Promise((resolve) => {
      release = resolve;
    });
    await route.continue();
  });
  await page.goto(server.url);
  await signedOut(page);
  release();

  const name = uniqueName('ann');
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('.me-name')).toHaveText(name);
  // Reloaded, the chats show from this device before the server answers.
  await page.reload();
  await expect(page.locator('.me-name')).toHaveText(name);
  await expect(page.getByRole('navigation', { name: 'Conversations' })).toBeVisible();
  release();
  await expect(page.locator('.me-name')).toHaveText(name);
  await context.close();
});
