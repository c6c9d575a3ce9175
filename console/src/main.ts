import { renderAccount } from './account.ts';
import { renderAnalytics } from './analytics.ts';
import { Api } from './api.ts';
import { cognitoSession } from './auth-cognito.ts';
import { devSession, renderDevLogin } from './auth-dev.ts';
import type { ConsoleConfig, Session } from './config.ts';
import { escapeHtml } from './format.ts';
import { Live } from './live.ts';
import { renderOverview } from './overview.ts';

async function boot(): Promise<void> {
  const app = document.querySelector<HTMLElement>('#app')!;
  const config = (await (await fetch('config.json')).json()) as ConsoleConfig;
  let session: Session | null;
  if (config.auth === 'dev') {
    session = await devSession(config);
    if (!session) return renderDevLogin(app);
  } else session = await cognitoSession(config);

  const who = document.querySelector<HTMLElement>('#who')!;
  who.innerHTML = `${escapeHtml(session.user)} · <span data-role="${session.role}">${session.role}</span> · <a href="#" id="sign-out">sign out</a>`;
  who.querySelector('#sign-out')!.addEventListener('click', (e) => {
    e.preventDefault();
    session.signOut();
  });
  const api = new Api(config.restUrl, session);
  const live = new Live(session, document.querySelector<HTMLElement>('#live')!);
  live.start();

  let cleanup: () => void = () => {};
  const route = async () => {
    cleanup();
    cleanup = () => {};
    const hash = location.hash || '#/';
    document
      .querySelectorAll<HTMLAnchorElement>('[data-nav]')
      .forEach((a) => a.classList.toggle('active', a.getAttribute('href') === hash));
    try {
      const account = /^#\/accounts\/(.+)$/.exec(hash);
      if (account)
        cleanup = await renderAccount(app, api, live, decodeURIComponent(account[1]!), session.role);
      else if (hash === '#/analytics') cleanup = await renderAnalytics(app, api);
      else cleanup = await renderOverview(app, api, live);
      app.dataset.view = account ? 'account' : hash === '#/analytics' ? 'analytics' : 'overview';
      app.dataset.ready = 'true';
    } catch (e) {
      app.innerHTML = `<p class="notice error">${escapeHtml((e as Error).message)}</p>`;
    }
  };
  window.addEventListener('hashchange', () => {
    app.dataset.ready = 'false';
    void route();
  });
  await route();
}

void boot();
