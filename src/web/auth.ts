/**
 * Credentials for the agent's protected actions. They are asked for in a dialog of the page (never the
 * browser's own prompt), kept in memory only — a reload forgets them — and dropped as soon as the agent
 * refuses them.
 */
import type { StatusView } from '../agent/api-types.js';
import { byId } from './dom.js';

export type AdminMode = StatusView['admin'];

export type Credentials =
  | { kind: 'token'; token: string }
  | { kind: 'basic'; username: string; password: string };

let remembered: Credentials | undefined;

export function needsCredentials(mode: AdminMode): boolean {
  return mode === 'token' || mode === 'basic' || mode === 'token+basic';
}

export function rememberedCredentials(): Credentials | undefined {
  return remembered;
}

export function forgetCredentials(): void {
  remembered = undefined;
}

function base64Utf8(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function authorizationHeader(c: Credentials): string {
  return c.kind === 'token' ? `Bearer ${c.token}` : `Basic ${base64Utf8(`${c.username}:${c.password}`)}`;
}

/** Shows the credentials dialog for the agent's mode; resolves undefined when the user cancels. */
export function askCredentials(mode: AdminMode, action: string): Promise<Credentials | undefined> {
  const dialog = byId<HTMLDialogElement>('auth-dialog');
  const form = byId<HTMLFormElement>('auth-form');
  const token = byId<HTMLInputElement>('auth-token');
  const user = byId<HTMLInputElement>('auth-user');
  const password = byId<HTMLInputElement>('auth-password');
  const cancel = byId<HTMLButtonElement>('auth-cancel');
  const explain = byId('auth-explain');
  const error = byId('auth-error');

  const wantsToken = mode === 'token' || mode === 'token+basic';
  const wantsBasic = mode === 'basic' || mode === 'token+basic';
  byId('auth-token-fields').hidden = !wantsToken;
  byId('auth-basic-fields').hidden = !wantsBasic;
  explain.textContent =
    `${action} is a protected action. ` +
    (mode === 'token+basic'
      ? 'Enter the agent’s bearer token, or a user name and password.'
      : wantsToken
        ? 'Enter the agent’s bearer token.'
        : 'Enter the user name and password configured on the agent.');
  token.value = '';
  password.value = '';
  error.textContent = '';

  return new Promise((resolve) => {
    const finish = (result: Credentials | undefined) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      if (result) remembered = result;
      resolve(result);
    };
    const onSubmit = (ev: Event) => {
      ev.preventDefault();
      if (wantsToken && token.value !== '') return finish({ kind: 'token', token: token.value });
      if (wantsBasic && user.value !== '') {
        return finish({ kind: 'basic', username: user.value, password: password.value });
      }
      error.textContent =
        wantsToken && wantsBasic ? 'Enter a token or a user name.' : 'This field is required.';
      (wantsToken ? token : user).focus();
    };
    const onCancel = (ev: Event) => {
      ev.preventDefault();
      finish(undefined);
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    (wantsToken ? token : user).focus();
  });
}
