/**
 * The date-range controls the dashboard and the Stores comparison share: preset buttons, From/To
 * days and a time zone (the dashboard adds hour/day radios). They show what resolveQuery made of
 * the page's choices, and turn the operator's edits into new choices for the page to commit.
 */
import { type DashQuery, DEFAULT_PRESET, type Interval, type Preset, type RangeChoice, type Resolved, rangeText } from "./dashboard";
import { el } from "./shell";
import { isDate } from "./zone";

/** The part of a page's parameters these controls edit. */
export interface RangeChoices {
  range: RangeChoice | null;
  tz: string | null;
  interval?: Interval | null;
}

export interface RangeControlsOptions<P extends RangeChoices> {
  form: HTMLFormElement;
  /** Holds the preset buttons (button[data-preset]). */
  presets: HTMLElement;
  from: HTMLInputElement;
  to: HTMLInputElement;
  tz: HTMLInputElement;
  /** The zone field's suggestions, filled the first time it is focused. */
  zones: HTMLDataListElement;
  error: HTMLElement;
  summary: HTMLElement;
  browserTz: string;
  /** The page's parameters now; an edit changes a copy of them. */
  params(): P;
  /** The operator changed a control: the page records and asks for the new choices. */
  commit(next: P): void;
  /** Hour/day radios; without them the page counts days only. */
  intervalRadios?: { hour: HTMLInputElement; day: HTMLInputElement };
  /** Shown when a From or To field is emptied (the pages name the fields differently). */
  missingDates?: string;
  /** The summary line around the range's own words (days, count, zone): the dashboard adds the store and interval. */
  summarize?: (range: string, query: DashQuery) => string;
}

export interface RangeControls {
  /** The controls show what is asked: the preset's days, the zone, the interval in effect, or why nothing can be. */
  sync(resolved: Resolved): void;
}

export function createRangeControls<P extends RangeChoices>(o: RangeControlsOptions<P>): RangeControls {
  const missingDates = o.missingDates ?? "Choose both a first and a last day.";
  const summarize = o.summarize ?? ((range: string) => range);
  const radios = o.intervalRadios ? [o.intervalRadios.hour, o.intervalRadios.day] : [];
  // Without radios nothing can refuse an interval; To stands for the range should one be refused.
  const invalidFields: Record<Exclude<Resolved, { ok: true }>["field"], HTMLInputElement[]> = {
    from: [o.from],
    to: [o.to],
    tz: [o.tz],
    interval: radios.length ? radios : [o.to],
  };
  let zonesListed = false;

  function sync(resolved: Resolved): void {
    const params = o.params();
    const range = params.range ?? { preset: DEFAULT_PRESET };
    for (const b of o.presets.querySelectorAll<HTMLButtonElement>("button[data-preset]")) {
      b.setAttribute("aria-pressed", String("preset" in range && range.preset === b.dataset.preset));
    }
    // A field being typed in keeps what the operator typed.
    const setValue = (input: HTMLInputElement, value: string) => {
      if (document.activeElement !== input && input.value !== value) input.value = value;
    };
    if (resolved.ok) {
      setValue(o.from, resolved.query.fromDate);
      setValue(o.to, resolved.query.toDate);
    } else if ("from" in range) {
      setValue(o.from, range.from);
      setValue(o.to, range.to);
    }
    setValue(o.tz, params.tz ?? o.browserTz);
    o.tz.placeholder = o.browserTz;
    if (o.intervalRadios) {
      const interval = resolved.ok ? resolved.query.interval : (params.interval ?? null);
      o.intervalRadios.hour.checked = interval === "hour";
      o.intervalRadios.day.checked = interval === "day";
    }

    for (const input of [o.from, o.to, o.tz, ...radios]) input.removeAttribute("aria-invalid");
    if (resolved.ok) {
      o.error.hidden = true;
      o.error.textContent = "";
      const q = resolved.query;
      o.summary.textContent = summarize(`${rangeText(q)} · ${q.days} day${q.days === 1 ? "" : "s"} · ${q.tz}`, q);
      o.summary.hidden = false;
    } else {
      for (const input of invalidFields[resolved.field]) input.setAttribute("aria-invalid", "true");
      o.error.textContent = resolved.message;
      o.error.hidden = false;
      o.summary.hidden = true;
    }
  }

  function datesChanged(): void {
    const from = o.from.value;
    const to = o.to.value;
    if (!isDate(from) || !isDate(to)) {
      (isDate(from) ? o.to : o.from).setAttribute("aria-invalid", "true");
      o.error.textContent = missingDates;
      o.error.hidden = false;
      return;
    }
    o.commit({ ...o.params(), range: { from, to } });
  }

  /** Every zone the browser knows, listed once and only when the field is first focused: most visits never edit it. */
  function listZones(): void {
    if (zonesListed) return;
    zonesListed = true;
    let zones: string[] = [];
    try {
      zones = Intl.supportedValuesOf("timeZone");
    } catch {
      // an old browser: the field still takes any name it knows
    }
    o.zones.replaceChildren(
      ...["UTC", ...zones.filter((z) => z !== "UTC")].map((z) => {
        const option = el("option");
        option.value = z;
        return option;
      }),
    );
  }

  o.form.addEventListener("submit", (e) => e.preventDefault());
  o.presets.addEventListener("click", (e) => {
    const b = e.target instanceof Element ? e.target.closest<HTMLButtonElement>("button[data-preset]") : null;
    if (b) o.commit({ ...o.params(), range: { preset: b.dataset.preset as Preset } });
  });
  o.from.addEventListener("change", datesChanged);
  o.to.addEventListener("change", datesChanged);
  o.tz.addEventListener("focus", listZones);
  o.tz.addEventListener("change", () => {
    const tz = o.tz.value.trim();
    o.commit({ ...o.params(), tz: tz === "" ? null : tz });
  });
  for (const radio of radios) {
    radio.addEventListener("change", () => {
      if (radio.checked) o.commit({ ...o.params(), interval: radio.value as Interval });
    });
  }

  return { sync };
}
