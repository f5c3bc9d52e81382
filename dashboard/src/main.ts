import { currentSession, isAdmin, logIn, logOut, restoreSession, whenLoggedOut } from './api.js';
import { alertsPage } from './alerts-page.js';
import { el, mount } from './dom.js';
import { hostPage, hostsPage } from './hosts-page.js';
import { overviewPage } from './overview-page.js';
import { policyPage } from './policy-page.js';
import { softwarePage } from './software-page.js';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
let leave: () => void = () => undefined;

function loginPage(): void {
  mount(nav);
  mount(who);
  const name = el('input', { name: 'name', autocomplete: 'username', required: true });
  const password = el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el(
    'form',
    { class: 'login', 'aria-label': 'Log in' },
    el('h1', {}, 'Vigil'),
    el('label', {}, 'User name', name),
    el('label', {}, 'Password', password),
    error,
    el('button', { type: 'submit', class: 'primary' }, 'Log in'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.textContent = '';
    logIn(name.value, password.value).then(
      () => {
        if (location.hash === '#/login' || !location.hash) location.hash = '#/alerts';
        else route();
      },
      (e: Error) => (error.textContent = e.message),
    );
  });
  mount(main, form);
  name.focus();
}

function chrome(current: string): void {
  const s = currentSession()!;
  const link = (href: string, label: string) => el('a', { href, ...(current === href ? { 'aria-current': 'page' } : {}) }, label);
  mount(nav, link('#/overview', 'Overview'), link('#/alerts', 'Alerts'), link('#/hosts', 'Hosts'), link('#/software', 'Software'), isAdmin() ? link('#/policy', 'Policy') : null);
  mount(who, `${s.user.name} (${s.user.role}) `, el('button', { type: 'button', onclick: () => void logOut().then(route) }, 'Log out'));
}

function route(): void {
  leave();
  leave = () => undefined;
  if (!currentSession()) return loginPage();
  const hash = location.hash || '#/alerts';
  const host = /^#\/hosts\/([0-9a-f-]{36})$/.exec(hash);
  if (host) {
    chrome('#/hosts');
    leave = hostPage(main, host[1]!);
  } else if (hash === '#/overview') {
    chrome('#/overview');
    leave = overviewPage(main);
  } else if (hash === '#/policy' && isAdmin()) {
    chrome('#/policy');
    leave = policyPage(main);
  } else if (hash === '#/software') {
    chrome('#/software');
    leave = softwarePage(main);
  } else if (hash === '#/hosts') {
    chrome('#/hosts');
    leave = hostsPage(main);
  } else {
    chrome('#/alerts');
    leave = alertsPage(main);
  }
}

whenLoggedOut(route);
window.addEventListener('hashchange', route);
void restoreSession().then(route);
