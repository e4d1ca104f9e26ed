// Strings live in locales/*.json, one file per language with the same keys (test/locales.test.mjs checks).
import { signal } from './signal';
import en from './locales/en.json';
import es from './locales/es.json';
import et from './locales/et.json';
import type { Lang } from './types';

const tables: Record<Lang, Record<string, string>> = { en, es, et };
export const LANGS: Lang[] = ['en', 'es', 'et'];

export const lang = signal<Lang>('en');

export function setLang(l: Lang) {
  lang.set(l);
  document.documentElement.lang = l;
}

/** The string for `key` in the current language, with `{name}` placeholders filled. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const text = tables[lang.get()][key] ?? tables.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? `{${name}}`));
}

/** Picks the text for the current language from a per-language map (consent texts, purposes). */
export function pick(texts: Partial<Record<string, string>> | undefined, fallback = ''): string {
  const own = texts?.[lang.get()];
  if (own) return own;
  return fallback || texts?.en || Object.values(texts ?? {})[0] || '';
}
