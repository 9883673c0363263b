/**
 * Light and dark: the system's preference by default, or the user's choice from the toggle, remembered
 * in localStorage (when the browser allows it). The choice is a data attribute the stylesheet reads.
 */
export type ThemeChoice = 'auto' | 'light' | 'dark';

const KEY = 'vault-multicast.theme';
const NEXT: Record<ThemeChoice, ThemeChoice> = { auto: 'light', light: 'dark', dark: 'auto' };
const LABEL: Record<ThemeChoice, string> = {
  auto: 'Theme: system',
  light: 'Theme: light',
  dark: 'Theme: dark',
};

function load(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    if (v === 'light' || v === 'dark') return v;
  } catch {
    // Storage blocked: fall back to the system preference.
  }
  return 'auto';
}

function apply(choice: ThemeChoice, button: HTMLButtonElement): void {
  if (choice === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  button.textContent = LABEL[choice];
  button.dataset.choice = choice;
}

export function setupTheme(button: HTMLButtonElement): void {
  let choice = load();
  apply(choice, button);
  button.addEventListener('click', () => {
    choice = NEXT[choice];
    apply(choice, button);
    try {
      if (choice === 'auto') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      // Not remembered; still applied for this page.
    }
  });
}
