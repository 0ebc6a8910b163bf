/**
 * Phone numbers: normalisation to E.164 (Chinese mobile and landline forms, `+86`/`0086` prefixes, E.164 for the
 * rest of the world) and masking for logs and unprivileged readers.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneCheck = { ok: true; e164: string } | { ok: false; reason: string };

export function normalisePhone(raw: string, defaultRegion: 'CN' = 'CN'): PhoneCheck {
  const trimmed = raw.replace(/[\s\-()（）]/g, '');
  if (!trimmed) return { ok: false, reason: 'phone number is empty' };
  if (!/^\+?\d{3,20}$/.test(trimmed))
    return { ok: false, reason: 'phone number may contain only digits and a leading +' };
  // 00 is the international prefix in China: 0086… is +86…
  const international = trimmed.startsWith('00') ? `+${trimmed.slice(2)}` : trimmed;
  const parsed = parsePhoneNumberFromString(international, defaultRegion);
  if (!parsed || !parsed.isValid()) return { ok: false, reason: 'not a valid phone number' };
  return { ok: true, e164: parsed.number };
}

/**
 * Mask the middle of a number: `+8613812345678` → `+86138****5678`. {@link maskPhonesIn} masks every standalone
 * run of 7–15 digits, so free text is safe to log.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 7) return '*'.repeat(phone.length);
  const plus = phone.startsWith('+') ? '+' : '';
  const head = digits.slice(0, Math.min(5, digits.length - 4));
  return `${plus}${head}${'*'.repeat(digits.length - head.length - 4)}${digits.slice(-4)}`;
}

export function maskPhonesIn(text: string): string {
  // Standalone runs of 7–15 digits (optionally after +): ids that merely contain digits stay readable.
  return text.replace(/(?<![A-Za-z0-9_])\+?\d{7,15}(?![A-Za-z0-9_])/g, (m) => maskPhone(m));
}
