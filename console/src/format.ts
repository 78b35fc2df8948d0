/** Local-time formatting for the page (browser locale, 24-hour clock). */
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});
const numberFormat = new Intl.NumberFormat();

export const time = (ms: number) => timeFormat.format(ms);
export const dateTime = (ms: number) => dateTimeFormat.format(ms);
export const count = (n: number) => numberFormat.format(n);
export const iso = (ms: number) => new Date(ms).toISOString();
