/** Normalisation of contact points before they are indexed or encrypted. */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** E.164 (`+4512345678`), reading national numbers in the site's default country; null when not a valid number. */
export function normalizePhone(phone: string, defaultCountry: string): string | null {
  const parsed = parsePhoneNumberFromString(phone.trim(), defaultCountry as CountryCode);
  return parsed?.isValid() ? parsed.number : null;
}
