/** Money on screen: integer cents of a currency (EUR today) as "€34.90". */
const formats = new Map<string, Intl.NumberFormat>();

/** `cents` of `currency` (ISO 4217, default EUR), e.g. 3490 -> "€34.90". */
export const formatCents = (cents: number, currency = 'EUR'): string => {
  let format = formats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat('en-IE', { style: 'currency', currency });
    formats.set(currency, format);
  }
  return format.format(cents / 100);
};

/** "34.90" or "34,9" typed by an admin -> 3490 cents; undefined when it is not an amount. */
export const parseCents = (text: string): number | undefined => {
  const normalized = text.trim().replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(normalized)) return undefined;
  return Math.round(Number(normalized) * 100);
};

/** A time as "10:09:53" (today) or a date and time. */
export const formatTime = (iso: string, now = new Date()): string => {
  const date = new Date(iso);
  return date.toDateString() === now.toDateString()
    ? date.toLocaleTimeString('en-GB')
    : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
};
