/**
 * The widget's Refresh and Reset Metrics, as POSTs to the agent's protected endpoints. Requests carry a
 * JSON body and content type (which a cross-site form cannot send without a CORS preflight the agent
 * refuses) and, when the agent wants them, credentials in the Authorization header — never cookies.
 */
import {
  type AdminMode,
  askCredentials,
  authorizationHeader,
  forgetCredentials,
  needsCredentials,
  rememberedCredentials,
} from './auth.js';

export type ListenerAction = 'refresh' | 'reset-metrics';

export const ACTION_LABEL: Record<ListenerAction, string> = {
  refresh: 'Refresh',
  'reset-metrics': 'Reset Metrics',
};

export interface ActionResult {
  ok: boolean;
  /** What the page tells the user. */
  message: string;
}

function refusal(status: number, statusText: string, detail: string): string {
  const why =
    status === 401
      ? 'credentials missing or wrong'
      : status === 403
        ? 'not allowed'
        : status === 404
          ? 'admin actions are disabled on this agent'
          : status === 429
            ? 'too many requests, try again in a minute'
            : 'the agent could not do it';
  return `Refused by the agent (${status}${statusText ? ` ${statusText}` : ''}: ${why})${detail ? ` — ${detail}` : ''}`;
}

async function errorDetail(res: Response): Promise<string> {
  try {
    const body: unknown = await res.json();
    if (body && typeof body === 'object' && 'error' in body && typeof body.error === 'string') {
      return body.error.slice(0, 200);
    }
  } catch {
    // Not JSON: the status says enough.
  }
  return '';
}

export async function runListenerAction(
  listener: string,
  action: ListenerAction,
  mode: AdminMode,
): Promise<ActionResult> {
  const label = ACTION_LABEL[action];
  if (mode === 'disabled') return { ok: false, message: `${label} is disabled on this agent.` };
  let credentials = rememberedCredentials();
  if (!credentials && needsCredentials(mode)) {
    credentials = await askCredentials(mode, label);
    if (!credentials)
      return { ok: false, message: `${label} cancelled: no credentials given, nothing changed.` };
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    // Marks a script request, so the agent can leave out the Basic challenge that would make the browser
    // open its own password prompt on top of the page's dialog.
    'X-Requested-With': 'vault-multicast-page',
  };
  if (credentials) headers.Authorization = authorizationHeader(credentials);
  let res: Response;
  try {
    res = await fetch(`api/v1/listeners/${encodeURIComponent(listener)}/${action}`, {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers,
      body: '{}',
    });
  } catch {
    return { ok: false, message: `${label} failed: the agent cannot be reached.` };
  }
  if (res.ok) return { ok: true, message: `${label} done for ${listener}.` };
  if (res.status === 401 || res.status === 403) forgetCredentials();
  return { ok: false, message: `${label}: ${refusal(res.status, res.statusText, await errorDetail(res))}` };
}
